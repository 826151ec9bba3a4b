// The delegation pages (board, delegates, runbooks, escalation map): print buttons and a
// confirmation before deleting. Every action is a plain form, so all of it works without this.
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
})();
