// Dashboard charts (Chart.js from static/vendor). Data comes from json_script blocks.
(function () {
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function pct(v) { return v === null ? null : Math.round(v * 1000) / 10; }
  var percentAxis = { ticks: { callback: function (v) { return v + "%"; } } };

  var trend = data("trend-data");
  var trendCanvas = document.getElementById("trend-chart");
  if (trend && trendCanvas) {
    new Chart(trendCanvas, {
      type: "line",
      data: {
        labels: trend.map(function (r) { return r.week; }),
        datasets: [{ label: "Attendance rate", data: trend.map(function (r) { return pct(r.rate); }),
                     borderColor: "#1f5fbf", tension: 0.2, spanGaps: true }]
      },
      options: { scales: { y: percentAxis }, plugins: { legend: { display: false } } }
    });
  }

  var overall = data("overall-data");
  var tiersCanvas = document.getElementById("tiers-chart");
  if (overall && tiersCanvas) {
    new Chart(tiersCanvas, {
      type: "doughnut",
      data: {
        labels: ["Satisfactory", "At risk", "Moderate chronic", "Severe chronic"],
        datasets: [{ data: [overall.satisfactory, overall.at_risk, overall.moderate_chronic,
                            overall.severe_chronic],
                     backgroundColor: ["#2e8b57", "#e6b34a", "#e07b39", "#c0392b"] }]
      },
      options: { plugins: { legend: { position: "right" } } }
    });
  }

  var schools = data("schools-data");
  var schoolsCanvas = document.getElementById("schools-chart");
  if (schools && schools.length && schoolsCanvas) {
    new Chart(schoolsCanvas, {
      type: "bar",
      data: {
        labels: schools.map(function (r) { return r.name; }),
        datasets: [{ label: "Chronically absent", backgroundColor: "#c0392b",
                     data: schools.map(function (r) { return r.suppressed ? null : pct(r.chronic_rate); }) }]
      },
      options: { indexAxis: "y", scales: { x: percentAxis }, plugins: { legend: { display: false } } }
    });
  }
})();
