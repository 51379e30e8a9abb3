// Usage pages (/usage, /admin-panel/usage): spend per day as bars and spend by model as a
// horizontal bar breakdown, drawn with the vendored Chart.js (static/vendor/chart.umd.js)
// from the data the page gives in <script id="usage-chart-data" type="application/json">.
// No inline script, so it runs under a Content-Security-Policy of script-src 'self'.
(function () {
  "use strict";

  const source = document.getElementById("usage-chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const usd = (value) => "$" + Number(value).toFixed(value && Math.abs(value) < 0.01 ? 6 : 2);
  const common = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      legend: { display: false },
      tooltip: { callbacks: { label: (item) => usd(item.parsed[item.chart.options.indexAxis === "y" ? "x" : "y"]) } },
    },
  };

  const byDay = document.getElementById("usage-by-day");
  if (byDay) {
    new window.Chart(byDay, {
      type: "bar",
      data: {
        labels: data.days,
        datasets: [{ label: "Spend (USD)", data: data.day_costs, backgroundColor: "#3b5bdb" }],
      },
      options: { ...common, scales: { y: { beginAtZero: true, ticks: { callback: usd } } } },
    });
  }

  const byModel = document.getElementById("usage-by-model");
  if (byModel && data.models.length) {
    byModel.parentElement.style.height = Math.max(120, 36 * data.models.length + 60) + "px";
    new window.Chart(byModel, {
      type: "bar",
      data: {
        labels: data.models,
        datasets: [{ label: "Spend (USD)", data: data.model_costs, backgroundColor: "#2b8a3e" }],
      },
      options: { ...common, indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { callback: usd } } } },
    });
  }
})();
