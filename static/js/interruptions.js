// The quick log of owner interruptions, on every page (templates/base.html): the button or the
// "i" key opens the dialog, htmx loads a fresh form into it (its time is now), Enter saves. A
// saved interruption fires "interruptions-changed" (HX-Trigger), which the interruption list
// and a running drill's page listen to. Without JavaScript the button is a link to the form's
// own page.
(function () {
  "use strict";

  // A refused write answers 422 with the form and its messages: swap it in like a 200 for the
  // forms that say so (pages without audits' htmx-config meta, the dialog on any page).
  document.addEventListener("htmx:beforeSwap", function (event) {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 422 && source && source.closest && source.closest("[data-swap-422]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  const dialog = document.getElementById("quick-log");
  const opener = document.getElementById("quick-log-open");
  if (!dialog || !opener) return;

  function typing(element) {
    if (!element) return false;
    const tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function focusForm() {
    const field = dialog.querySelector(".errorlist") ?
      dialog.querySelector(".errorlist").parentElement.querySelector("input, select, textarea") :
      dialog.querySelector("#ql_ticket_ref");
    if (field) field.focus();
  }

  // htmx loads the form (hx-get on the button); the dialog opens at the same time.
  opener.addEventListener("click", function () {
    if (!window.htmx) return; // the link then opens the form's own page
    if (!dialog.open) dialog.showModal();
  });

  // Other "Log an interruption" buttons (e.g. on the interruption list) open the same dialog.
  document.addEventListener("click", function (event) {
    const other = event.target.closest("[data-quick-log-open]");
    if (!other || !window.htmx) return;
    event.preventDefault();
    opener.click();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (dialog.open && dialog.contains(event.detail.elt)) focusForm();
  });

  // Closed: the next opening loads a fresh form (with the time of that moment), never the old one.
  dialog.addEventListener("close", function () {
    const body = document.getElementById("quick-log-body");
    if (body) body.innerHTML = '<p class="muted">Loading…</p>';
  });

  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "i" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (dialog.open || typing(event.target)) return;
    event.preventDefault();
    opener.click();
  });
})();
