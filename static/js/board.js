// The delegation pages (board, delegates, runbooks, escalation map): print buttons, a
// confirmation before deleting, and drag and drop on the board. Every action is a plain form
// (a card's moves are buttons), so all of it works without this.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  // Capture phase: ask before app.js or htmx see the submit.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Drag and drop, a mouse shortcut for the move buttons: dropping a card on a column posts the
  // same move its button would, and the server applies the same rules (a refused move, or one
  // the card has no button for, comes back with the reason on the card).
  let dragged = null;
  const columnAt = (event) => event.target.closest && event.target.closest(".board-column");
  const clearTargets = () => {
    document.querySelectorAll(".board-column.drop-target").forEach((c) => c.classList.remove("drop-target"));
  };

  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest(".dcard[data-move-url]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    const column = columnAt(event);
    if (!dragged || !column || column.dataset.status === dragged.dataset.status) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearTargets();
    column.classList.add("drop-target");
  });

  document.addEventListener("drop", function (event) {
    const column = columnAt(event);
    if (!dragged || !column || !window.htmx) return;
    event.preventDefault();
    clearTargets();
    if (column.dataset.status === dragged.dataset.status) return;
    window.htmx.ajax("POST", dragged.dataset.moveUrl, {
      source: dragged,
      target: "#board",
      swap: "outerHTML",
      values: { status: column.dataset.status, where: "board" },
    });
  });
})();
