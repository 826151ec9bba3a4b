// Small helpers shared by every page: copy buttons, the phone menu.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  navigator.clipboard?.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// htmx wires content it swaps in only once the swap settles (a few milliseconds later). A
// form submitted in that gap (a fast typist pressing Enter on a freshly swapped quick-add
// line) would fall back to a full-page POST: hand it to htmx instead. A form htmx already
// handles has had its default prevented by the time the event reaches the document.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !window.htmx || !form.matches("[hx-post], [hx-get]")) return;
  event.preventDefault();
  window.htmx.process(form);
  window.htmx.trigger(form, "submit");
});

// A <select data-submit-on-pick> (the organization switcher, the weekly plan's "Plan of") goes
// to an option picked with the pointer at once. Chromium fires change on every arrow key through
// a closed select, which would send a keyboard user to the first option passed: once a key was
// pressed on it, change waits and Enter goes. While a key-picked option waits, the form's
// [data-pick-go] button shows, the next stop of Tab (leaving the select does not lose the pick
// from sight). A form marked data-submit-on-leave (an interruption's review, three such selects
// in its row) instead submits a key-picked option when the focus leaves the form, and Enter
// from any of its selects submits it. A form htmx swaps out gets the focus back on the select
// it was submitted from (the same id in the new content). Without JavaScript a <noscript>
// button submits.
{
  const pickSelect = (event) => event.target.closest?.("select[data-submit-on-pick]");
  const changed = (select) => Array.from(select.options).some((option) => option.selected !== option.defaultSelected);
  const pending = (form) => Array.from(form.querySelectorAll("select[data-submit-on-pick]")).some(changed);
  let refocus = null;
  // Forms already submitted: the one htmx swaps out loses the focus as it goes, and Chromium
  // then fires focusout on it, which must not send its old values a second time.
  const sent = new WeakSet();
  const submit = (form, keepFocus = true) => {
    refocus = keepFocus && form.contains(document.activeElement) ? document.activeElement.id || null : null;
    sent.add(form);
    form.requestSubmit();
  };
  const showGo = (select) => {
    const go = select.form.querySelector("[data-pick-go]");
    if (go) go.hidden = !changed(select);
  };
  document.addEventListener("pointerdown", (event) => {
    const select = pickSelect(event);
    if (select) delete select.dataset.keyed;
  });
  document.addEventListener("keydown", (event) => {
    const select = pickSelect(event);
    if (!select) return;
    if (event.key !== "Enter") {
      select.dataset.keyed = "true";
      return;
    }
    event.preventDefault();
    if (pending(select.form)) submit(select.form);
  });
  document.addEventListener("change", (event) => {
    const select = pickSelect(event);
    if (!select) return;
    if (!select.dataset.keyed && changed(select)) submit(select.form);
    else showGo(select);
  });
  document.addEventListener("focusout", (event) => {
    const form = event.target.closest?.("form[data-submit-on-leave]");
    if (!form || sent.has(form) || (event.relatedTarget && form.contains(event.relatedTarget))) return;
    if (pending(form)) submit(form, false); // the focus went elsewhere on purpose: left there
  });
  document.addEventListener("htmx:afterSettle", () => {
    const again = refocus && document.getElementById(refocus);
    refocus = null;
    if (again) again.focus();
  });
}

// The phone menu (below 760 px): the ☰ button shows and hides the navigation. Escape, from the
// button or inside the menu, closes it and puts the focus back on the button.
{
  const toggle = document.querySelector(".nav-toggle[aria-controls]");
  const nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (nav) {
    const isOpen = () => toggle.getAttribute("aria-expanded") === "true";
    toggle.addEventListener("click", () => toggle.setAttribute("aria-expanded", String(!isOpen())));
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || !isOpen() || !toggle.offsetParent) return;
      if (event.target !== toggle && !nav.contains(event.target)) return;
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    });
  }
}

// A table wider than the screen (a phone) scrolls sideways in its .table-wrap: a box that
// scrolls is made a stop of Tab, named after the table's caption or the heading before it, so
// the arrow keys can scroll it too (WCAG 2.1.1). Checked at load, after each htmx swap and when
// the window is resized; a box that fits is no stop.
function markScrollingTables() {
  for (const box of document.querySelectorAll(".table-wrap")) {
    if (box.scrollWidth > box.clientWidth + 1) {
      if (box.getAttribute("tabindex") === "0") continue;
      const table = box.querySelector("table");
      const caption = table && table.querySelector("caption");
      const summary = box.closest("details") && box.closest("details").querySelector("summary");
      const name = (caption || summary || { textContent: "Table" }).textContent.trim();
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", `${name} (scrolls sideways)`);
    } else if (box.getAttribute("tabindex") === "0") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}
document.addEventListener("DOMContentLoaded", markScrollingTables);
document.addEventListener("htmx:afterSettle", markScrollingTables);
document.addEventListener("toggle", markScrollingTables, true); // a <details> opened: now measurable
window.addEventListener("resize", markScrollingTables);
