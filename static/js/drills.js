// The drill report's two bar charts (interruptions per day and per ticket category), drawn by
// the vendored Chart.js from data handed over with json_script (#drill-chart-data).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  const source = document.getElementById("drill-chart-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.animation = false;

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const series = data[canvas.dataset.chart];
    if (!series) return;
    const horizontal = canvas.dataset.kind === "hbar";
    if (horizontal) canvas.parentElement.style.height = Math.max(160, series.labels.length * 26) + "px";
    canvas.chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [{ label: "Interruptions", data: series.counts, backgroundColor: horizontal ? "#f79009" : "#2454d6" }],
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          [horizontal ? "x" : "y"]: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "interruptions" } },
          [horizontal ? "y" : "x"]: { ticks: { autoSkip: false } },
        },
      },
    });
  });
})();
