// The console dashboard's charts, drawn with the vendored Chart.js from the figures the page
// embeds (json_script "chart-data"); the same figures are in the table under the charts.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var blue = "#2747d8", red = "#b42318", green = "#067647";
    function chart(id, type, datasets, money) {
      var canvas = document.getElementById(id);
      if (!canvas) { return; }
      new window.Chart(canvas, {
        type: type,
        data: { labels: data.months, datasets: datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: {
            legend: { display: datasets.length > 1 },
            tooltip: { callbacks: { label: function (item) {
              return (datasets.length > 1 ? item.dataset.label + ": " : "") +
                (money ? money[item.dataIndex] : item.formattedValue);
            } } }
          },
          scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: money ? function () { return ""; } : undefined } } }
        }
      });
    }
    chart("chart-mrr", "line", [{ label: "MRR", data: data.mrr, borderColor: blue, backgroundColor: blue, tension: 0.2 }], data.mrrText);
    chart("chart-revenue", "bar", [{ label: "Revenue", data: data.revenue, backgroundColor: blue }], data.revenueText);
    chart("chart-active", "line", [{ label: "Active", data: data.active, borderColor: green, backgroundColor: green, tension: 0.2 }]);
    chart("chart-churn", "bar", [
      { label: "Started", data: data.started, backgroundColor: green },
      { label: "Canceled", data: data.churned, backgroundColor: red }
    ]);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
