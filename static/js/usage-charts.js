// Usage pages (/usage, /admin-panel/usage): spend per day as bars and spend by model as a
// horizontal bar breakdown, drawn with the vendored Chart.js (static/vendor/chart.umd.js)
// from the data the page gives in <script id="usage-chart-data" type="application/json">.
// No inline script, so it runs under a Content-Security-Policy of script-src 'self'.
(function () {
  "use strict";

  const source = document.getElementById("usage-chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);

  // Dollars as the pages' |usd filter writes them: cents from a cent up, two significant
  // digits below, "$0.00" for nothing.
  function usd(value) {
    const amount = Number(value) || 0;
    if (amount === 0) return "$0.00";
    const abs = Math.abs(amount);
    const sign = amount < 0 ? "-" : "";
    if (abs >= 0.01) return sign + "$" + abs.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const places = Math.min(8, 1 - Math.floor(Math.log10(abs)));
    return sign + "$" + abs.toFixed(places).replace(/0+$/, "");
  }

  // Long model names would push the bars out of a phone's width: cut them, the tooltip
  // and the table below keep the whole name.
  function shortLabel(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function colours() {
    const style = getComputedStyle(document.documentElement);
    return {
      text: style.getPropertyValue("--muted").trim() || "#535b6c",
      grid: style.getPropertyValue("--border").trim() || "#dde1ea",
      bar: style.getPropertyValue("--accent").trim() || "#3451c7",
      bar2: style.getPropertyValue("--ok").trim() || "#1b6a2e",
    };
  }

  const charts = [];
  const common = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      legend: { display: false },
      tooltip: {
        callbacks: {
          title: (items) => items.length ? String(items[0].chart.data.labels[items[0].dataIndex]) : "",
          label: (item) => usd(item.parsed[item.chart.options.indexAxis === "y" ? "x" : "y"]),
        },
      },
    },
  };

  function paint() {
    const c = colours();
    for (const chart of charts) {
      chart.data.datasets[0].backgroundColor = chart.canvas.id === "usage-by-model" ? c.bar2 : c.bar;
      for (const axis of Object.values(chart.options.scales)) {
        axis.ticks.color = c.text;
        axis.grid.color = c.grid;
      }
      chart.update("none");
    }
  }

  const byDay = document.getElementById("usage-by-day");
  if (byDay) {
    charts.push(new window.Chart(byDay, {
      type: "bar",
      data: { labels: data.days, datasets: [{ label: "Spend (USD)", data: data.day_costs }] },
      options: {
        ...common,
        scales: {
          x: { ticks: { autoSkip: true, maxRotation: 60 }, grid: {} },
          y: { beginAtZero: true, ticks: { callback: usd }, grid: {} },
        },
      },
    }));
  }

  const byModel = document.getElementById("usage-by-model");
  if (byModel && data.models.length) {
    byModel.parentElement.style.height = Math.max(120, 36 * data.models.length + 60) + "px";
    const max = () => (byModel.parentElement.clientWidth < 500 ? 16 : 40);
    charts.push(new window.Chart(byModel, {
      type: "bar",
      data: { labels: data.models, datasets: [{ label: "Spend (USD)", data: data.model_costs }] },
      options: {
        ...common,
        indexAxis: "y",
        scales: {
          x: { beginAtZero: true, ticks: { callback: usd, maxRotation: 0, autoSkip: true }, grid: {} },
          y: { ticks: { callback: function (value) { return shortLabel(String(this.getLabelForValue(value)), max()); } }, grid: {} },
        },
      },
    }));
  }

  paint();
  document.addEventListener("studio:theme", paint);
})();
