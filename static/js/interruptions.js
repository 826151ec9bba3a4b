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

  // A row's follow-up (the interruption list, a drill's review) saves when a choice is made:
  // a click or tap on an option, or from the keyboard Enter, or leaving the row's form. The
  // arrow keys (and typing a letter) on a closed select change its value at once in Chromium
  // and Firefox: there they only browse the options, so the row is not saved at each one (it
  // was: one ArrowDown wrote "Rule tightened" over "Runbook updated" and dropped its runbook).
  // The saved row replaces the old one; the focus goes back to the same select in it.
  const BROWSING = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "PageUp", "PageDown", "Home", "End"];
  let browsed = null; // [the select, when its last browsing key went down]
  let refocus = null;

  function followUpForm(element) {
    return element && element.closest ? element.closest("form.follow-up") : null;
  }

  function save(form) {
    delete form.dataset.unsaved;
    if (form.contains(document.activeElement)) refocus = document.activeElement.id;
    if (window.htmx) window.htmx.trigger(form, "follow-up-save");
  }

  document.addEventListener("keydown", function (event) {
    const form = followUpForm(event.target);
    if (!form || event.target.tagName !== "SELECT") return;
    if (BROWSING.includes(event.key) || event.key.length === 1) {
      browsed = [event.target, performance.now()];
    } else if (event.key === "Enter" && form.dataset.unsaved) {
      event.preventDefault();
      save(form);
    }
  });

  document.addEventListener("change", function (event) {
    const form = followUpForm(event.target);
    if (!form) return;
    const byKeyboard = browsed && browsed[0] === event.target && performance.now() - browsed[1] < 500;
    browsed = null;
    if (byKeyboard) {
      form.dataset.unsaved = "true"; // saved on Enter, or when the focus leaves the form
    } else {
      save(form);
    }
  });

  document.addEventListener("focusout", function (event) {
    const form = followUpForm(event.target);
    if (!form || !form.dataset.unsaved) return;
    if (event.relatedTarget && form.contains(event.relatedTarget)) return; // still in the form
    refocus = null; // the focus went elsewhere on purpose
    delete form.dataset.unsaved;
    if (window.htmx) window.htmx.trigger(form, "follow-up-save");
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!refocus) return;
    const again = document.getElementById(refocus);
    refocus = null;
    if (again) again.focus();
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
