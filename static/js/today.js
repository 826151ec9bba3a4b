// The Today page: the ticking timer, keyboard shortcuts, focus after a quick add.
// Shortcuts are listed on the page (#shortcuts) and are off while typing in a field.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function tick() {
    const clock = document.getElementById("timer-elapsed");
    if (!clock) return;
    const started = Date.parse(clock.dataset.startedAt);
    const seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
    const text = Math.floor(seconds / 3600) + ":" + pad(Math.floor(seconds / 60) % 60) + ":" + pad(seconds % 60);
    if (clock.textContent !== text) clock.textContent = text;
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);

  // A second tab: when this one comes back into view, ask the server for the timer's state.
  document.addEventListener("visibilitychange", function () {
    const timer = document.getElementById("timer");
    if (document.visibilityState === "visible" && timer && window.htmx) window.htmx.trigger(timer, "refresh");
  });

  // After a successful quick add the fresh line arrives out of band: keep typing.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "quick-add" && document.activeElement === document.body) {
      const input = target.querySelector("input[name=line]");
      if (input) input.focus();
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "quick-add") {
      const input = target.querySelector("input[name=line]");
      if (input) input.focus();
    }
    if (target && target.classList && target.classList.contains("editing")) {
      const first = target.querySelector("input[name=activity]");
      if (first) first.focus();
    }
  });

  function typing(element) {
    if (!element) return false;
    const tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function go(id) {
    const link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const quick = document.querySelector("#quick-add input[name=line]");
    switch (event.key) {
      case "/":
      case "n":
        if (quick) { event.preventDefault(); quick.focus(); }
        break;
      case "a": {
        const details = document.getElementById("add-details");
        if (details) {
          event.preventDefault();
          details.open = true;
          const field = details.querySelector("input[name=activity]");
          if (field) field.focus();
        }
        break;
      }
      case "t": {
        const button = document.getElementById("timer-toggle");
        if (button) { event.preventDefault(); button.click(); }
        break;
      }
      case "j":
      case "[":
        go("prev-day");
        break;
      case "k":
      case "]":
        go("next-day");
        break;
      case "g": {
        const script = document.querySelector("script[data-today-url]");
        if (script) window.location.href = script.dataset.todayUrl;
        break;
      }
      case "?": {
        const list = document.getElementById("shortcuts");
        if (list) { list.open = !list.open; if (list.open) list.scrollIntoView({ block: "nearest" }); }
        break;
      }
      default:
        return;
    }
  });
})();
