// The audit report's charts, drawn by the vendored Chart.js from data handed over with
// json_script (#chart-data); no inline code. Each <canvas data-chart="key" data-kind="...">.
(function () {
  "use strict";

  const COLORS = ["#2454d6", "#f79009", "#12b76a", "#7a5af8", "#f04438", "#0ba5ec", "#ee46bc", "#667085",
    "#66c61c", "#b54708", "#155eef", "#dd2590", "#099250", "#475467"];

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  const source = document.getElementById("chart-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.animation = false;

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const series = data[canvas.dataset.chart];
    if (!series) return;
    const kind = canvas.dataset.kind;
    const doughnut = kind === "doughnut";
    if (kind === "hbar") {
      // One readable row per category: the chart grows with the list instead of skipping labels.
      canvas.parentElement.style.height = Math.max(160, series.labels.length * 26) + "px";
    }
    canvas.chart = new window.Chart(canvas, {
      type: doughnut ? "doughnut" : "bar",
      data: {
        labels: series.labels,
        datasets: [{
          label: "Hours",
          data: series.hours,
          backgroundColor: doughnut ? ["#2454d6", "#12b76a", "#d0d5dd"] : series.labels.map(function (_, i) {
            return canvas.dataset.chart === "days" ? "#2454d6" : COLORS[i % COLORS.length];
          }),
        }],
      },
      options: {
        indexAxis: kind === "hbar" ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: doughnut, position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) { return " " + ctx.formattedValue + " h"; } } },
        },
        scales: doughnut ? {} : {
          [kind === "hbar" ? "x" : "y"]: { beginAtZero: true, title: { display: true, text: "hours" } },
          [kind === "hbar" ? "y" : "x"]: { ticks: { autoSkip: false } },
        },
      },
    });
  });

  // Redraw at paper width before printing, and back after.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(function (c) { if (c.chart) c.chart.resize(); });
  });
})();
