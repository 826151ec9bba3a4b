// The KPI dashboard's 12-week trend charts, drawn by the vendored Chart.js from data handed over
// with json_script (#kpi-chart-data); drawn again when htmx swaps the figures in after a
// recompute (htmx.onLoad). Bars are coloured by each week's status; dashed lines are targets.
// Also: Print buttons, Cancel on the to-do form opened in place (the dashboard, the to-do list),
// and the to-do list's "New to-do" following the list's filter.
(function () {
  "use strict";

  const STATUS_COLORS = { green: "#12b76a", amber: "#f79009", red: "#f04438" };
  const NO_STATUS = "#98a2b3";
  const TARGET = "#067647";

  // A to-do created in place: its confirmation takes the focus the removed form had (a
  // keyboard user goes on from there; a screen reader reads it).
  document.addEventListener("htmx:afterSettle", function () {
    const found = document.querySelector("[data-focus-on-load]");
    if (!found) return;
    found.removeAttribute("data-focus-on-load"); // once: not again at the next swap elsewhere
    found.focus();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
    const cancel = event.target.closest("[data-close-todo-form]");
    if (cancel) {
      const slot = cancel.closest(".todo-slot");
      if (!slot) return;
      slot.innerHTML = "";
      // The to-do list's "New to-do": closed, with a fresh form for the next time it opens.
      const details = slot.closest("details");
      if (details) details.open = false;
      if (slot.dataset.freshForm && window.htmx) {
        window.htmx.ajax("GET", slot.dataset.freshForm, { target: slot, swap: "innerHTML" });
      }
    }
  });

  // The to-do list filtered in place (hx-push-url): the "New to-do" form, the fresh one opened
  // after Cancel and "Make another" go back to the list as it is filtered now, also by a plain POST.
  function withNext(url, next) {
    const address = new URL(url, window.location.href);
    address.searchParams.set("next", next);
    return address.pathname + address.search;
  }

  document.addEventListener("htmx:pushedIntoHistory", function () {
    const slot = document.getElementById("new-todo-slot");
    if (!slot) return;
    const here = window.location.pathname + window.location.search;
    slot.querySelectorAll("input[name=next]").forEach(function (input) { input.value = here; });
    if (slot.dataset.freshForm) slot.dataset.freshForm = withNext(slot.dataset.freshForm, here);
    slot.querySelectorAll("a[hx-get]").forEach(function (link) {
      link.href = withNext(link.getAttribute("href"), here);
      link.setAttribute("hx-get", withNext(link.getAttribute("hx-get"), here));
      if (window.htmx) window.htmx.process(link);
    });
  });

  function bars(label, series) {
    return {
      type: "bar",
      label: label,
      data: series.values,
      backgroundColor: series.status.map(function (s) { return STATUS_COLORS[s] || NO_STATUS; }),
      order: 3,
    };
  }

  function line(label, values, color, dashed) {
    return {
      type: "line",
      label: label,
      data: values,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 2,
      borderDash: dashed ? [6, 4] : [],
      pointRadius: dashed ? 0 : 2,
      spanGaps: true,
      fill: false,
      order: dashed ? 1 : 2,
    };
  }

  const DATASETS = {
    delegated_hours: function (s) {
      const sets = [bars("Delegated hours", s), line(s.amber ? "Green target" : "Previous 4 weeks' mean", s.target, TARGET, true)];
      if (s.amber) sets.push(line("Amber line", s.amber, "#b54708", true));
      return sets;
    },
    owner_interruptions: function (s) {
      return [bars("Interruptions", s), line("4-week average", s.average, "#2454d6", false),
        line("Target (4-week average)", s.target, TARGET, true)];
    },
    aged_backlog: function (s) {
      return [bars("Aged tickets", s), line("Worst team", s.worst_team, "#7a5af8", false),
        line("Target per team", s.target, TARGET, true)];
    },
  };

  function draw(root) {
    if (!window.Chart || !root || !root.querySelector) return;
    const source = root.querySelector("#kpi-chart-data");
    if (!source) return;
    const data = JSON.parse(source.textContent);
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.animation = false;
    root.querySelectorAll("canvas[data-kpi-chart]").forEach(function (canvas) {
      const key = canvas.dataset.kpiChart;
      if (!data[key] || window.Chart.getChart(canvas)) return;
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: data.labels, datasets: DATASETS[key](data[key]) },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
          scales: { y: { beginAtZero: true }, x: { ticks: { autoSkip: true, maxRotation: 0 } } },
        },
      });
    });
  }

  if (window.htmx) window.htmx.onLoad(draw);
  else document.addEventListener("DOMContentLoaded", function () { draw(document.body); });

  // Redraw at paper width before printing, and back after.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("canvas[data-kpi-chart]").forEach(function (canvas) {
      const chart = window.Chart && window.Chart.getChart(canvas);
      if (chart) chart.resize();
    });
  });
})();
