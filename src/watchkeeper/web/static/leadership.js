// Leadership trends: one uPlot chart per figure from the JSON in each .chart's data-chart
// (labels of the months, the x and y axis titles with units, and the series). The table
// under the charts holds the same numbers, for screen readers and for copying.
"use strict";
(function () {
  var HEIGHT = 260;

  function monthAxis(labels) {
    return {
      label: "",
      splits: function () { return labels.map(function (_, i) { return i; }); },
      values: function (u, splits) {
        return splits.map(function (i) { return labels[i] === undefined ? "" : labels[i]; });
      },
    };
  }

  function seriesOf(item, bars) {
    var series = {
      label: item.label,
      stroke: item.color,
      width: 2,
      spanGaps: false,
      points: { show: true, size: 6, fill: item.color },
    };
    if (item.kind === "bars" && bars) {
      series.fill = item.color;
      series.paths = bars;
      series.points = { show: false };
    }
    return series;
  }

  function draw(element) {
    var spec = JSON.parse(element.dataset.chart);
    var xs = spec.labels.map(function (_, i) { return i; });
    var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 80] }) : null;
    var axisX = monthAxis(spec.labels);
    axisX.label = spec.x;
    var options = {
      width: Math.max(element.clientWidth, 280),
      height: HEIGHT,
      scales: {
        x: { time: false, range: [-0.5, xs.length - 0.5] },
        y: {
          range: function (u, min, max) { return [0, Math.max(max === null ? 1 : max, 1) * 1.1]; },
        },
      },
      axes: [axisX, { label: spec.y }],
      series: [{ label: "month", value: function (u, i) { return spec.labels[i] || ""; } }]
        .concat(spec.series.map(function (item) { return seriesOf(item, bars); })),
    };
    var data = [xs].concat(spec.series.map(function (item) { return item.values; }));
    var chart = new uPlot(options, data, element);
    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(element.clientWidth, 280), height: HEIGHT });
    });
  }

  function start() {
    if (typeof uPlot === "undefined") { return; }
    document.querySelectorAll(".leadership-chart .chart[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
