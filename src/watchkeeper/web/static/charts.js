// SLO detail charts: error budget, SLI and burn rates on one time axis (uPlot), drawn from
// /slos/{service}/{name}/chart.json, which the server has already downsampled. Times are
// shown in the viewer's zone (uPlot.tzDate); colours are Okabe & Ito's, and every line also
// differs by dash or label, so no state depends on colour alone.
"use strict";
(function () {
  const OKABE_ITO = {
    black: "#000000", orange: "#E69F00", sky: "#56B4E9", green: "#009E73",
    yellow: "#F0E442", blue: "#0072B2", vermilion: "#D55E00", purple: "#CC79A7",
  };
  const WINDOW_COLOURS = [OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.green, OKABE_ITO.purple,
    OKABE_ITO.sky, OKABE_ITO.vermilion];
  const MARKERS = {
    change: { colour: OKABE_ITO.blue, dash: [], label: "change" },
    alert_opened: { colour: OKABE_ITO.vermilion, dash: [6, 3], label: "alert group opened" },
    alert_resolved: { colour: OKABE_ITO.green, dash: [6, 3], label: "alert group resolved" },
    incident_declared: { colour: OKABE_ITO.purple, dash: [], label: "incident declared" },
    incident_resolved: { colour: OKABE_ITO.sky, dash: [], label: "incident resolved" },
    exhaustion: { colour: OKABE_ITO.black, dash: [2, 3], label: "forecast: budget exhausted" },
  };
  const HEIGHT = 240;

  function percent(value, digits) {
    return value == null ? "no data" : (value * 100).toFixed(digits) + " %";
  }

  function rate(value) {
    return value == null ? "no data" : value.toFixed(2) + "×";
  }

  // Vertical lines at each marker, inside the plotting area.
  function markerPlugin(markers) {
    return {
      hooks: {
        draw: [function (u) {
          const ctx = u.ctx;
          const top = u.bbox.top;
          const bottom = top + u.bbox.height;
          for (const marker of markers) {
            const style = MARKERS[marker.kind] || MARKERS.change;
            const x = Math.round(u.valToPos(marker.at, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.save();
            ctx.strokeStyle = style.colour;
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.setLineDash(style.dash.map(function (d) { return d * devicePixelRatio; }));
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, bottom);
            ctx.stroke();
            ctx.restore();
          }
        }],
      },
    };
  }

  function timeAxis(zone) {
    return { label: "Time (" + zone + ")", labelSize: 20 };
  }

  function valueAxis(label, format) {
    return {
      label: label,
      labelSize: 20,
      size: 70,
      values: function (u, splits) { return splits.map(format); },
    };
  }

  function constant(times, value) {
    return times.map(function () { return value; });
  }

  function options(el, zone, markers, axis, series) {
    return {
      width: Math.max(el.clientWidth, 280),
      height: HEIGHT,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), zone); },
      scales: { x: { time: true } },
      axes: [timeAxis(zone), axis],
      series: [{ label: "Time" }].concat(series),
      plugins: [markerPlugin(markers)],
      cursor: { drag: { x: false, y: false } },
    };
  }

  function budgetChart(el, doc, zone, markers) {
    const opts = options(el, zone, markers,
      valueAxis("Budget left (%)", function (v) { return (v * 100).toFixed(0) + " %"; }),
      [
        { label: "Budget left", stroke: OKABE_ITO.blue, width: 2,
          value: function (u, v) { return percent(v, 2); } },
        { label: "Budget spent (0 %)", stroke: OKABE_ITO.black, width: 1, dash: [4, 4],
          value: function () { return "0 %"; } },
      ]);
    const data = [doc.times, doc.series.error_budget_remaining, constant(doc.times, 0)];
    return new uPlot(opts, data, el);
  }

  function sliChart(el, doc, zone, markers) {
    const opts = options(el, zone, markers,
      valueAxis("SLI (%)", function (v) { return (v * 100).toFixed(2) + " %"; }),
      [
        { label: "SLI", stroke: OKABE_ITO.green, width: 2,
          value: function (u, v) { return percent(v, 3); } },
        { label: "Objective " + percent(doc.objective, 3), stroke: OKABE_ITO.black, width: 1,
          dash: [4, 4], value: function () { return percent(doc.objective, 3); } },
      ]);
    const data = [doc.times, doc.series.sli, constant(doc.times, doc.objective)];
    return new uPlot(opts, data, el);
  }

  function burnChart(el, doc, zone, markers) {
    const series = [];
    const data = [doc.times];
    const windows = Object.keys(doc.series.burn_rates);
    windows.forEach(function (window, i) {
      series.push({ label: "Burn " + window, stroke: WINDOW_COLOURS[i % WINDOW_COLOURS.length],
        width: 2, dash: i >= WINDOW_COLOURS.length ? [8, 3] : undefined,
        value: function (u, v) { return rate(v); } });
      data.push(doc.series.burn_rates[window]);
    });
    doc.alerts.forEach(function (alert) {
      series.push({
        label: alert.severity + " threshold " + alert.factor + " (" + alert.long + "/" + alert.short + ")",
        stroke: alert.severity === "page" ? OKABE_ITO.vermilion : OKABE_ITO.black,
        width: 1, dash: alert.severity === "page" ? [8, 4] : [2, 4],
        value: function () { return alert.factor + "×"; },
      });
      data.push(constant(doc.times, alert.factor));
    });
    const opts = options(el, zone, markers,
      valueAxis("Burn rate (×)", function (v) { return v + "×"; }), series);
    return new uPlot(opts, data, el);
  }

  function listMarkers(list, markers, zone) {
    const format = new Intl.DateTimeFormat(undefined, {
      timeZone: zone, dateStyle: "medium", timeStyle: "short",
    });
    list.replaceChildren();
    for (const marker of markers) {
      const style = MARKERS[marker.kind] || MARKERS.change;
      const item = document.createElement("li");
      item.dataset.kind = marker.kind;
      const time = document.createElement("time");
      time.dateTime = new Date(marker.at * 1e3).toISOString();
      time.textContent = format.format(new Date(marker.at * 1e3)) + " (" + zone + ")";
      const kind = document.createElement("strong");
      kind.textContent = style.label + ": ";
      item.append(time, kind, document.createTextNode(marker.label || ""));
      list.append(item);
    }
  }

  function draw(container, doc) {
    const zone = container.dataset.zone || "UTC";
    const status = container.querySelector(".chart-status");
    const markers = (doc.markers || []).slice();
    if (doc.exhaustion_at != null) {
      markers.push({ at: doc.exhaustion_at, kind: "exhaustion", label: "at the current burn rate" });
    }
    if (!doc.times.length) {
      status.textContent = "No stored evaluations in this range: the worker stores them as it " +
        "evaluates (watchkeeper serve or watchkeeper worker); pick a longer range or wait.";
      return;
    }
    status.textContent = doc.times.length + " points, one per " + doc.bucket_seconds +
      " s, times in " + zone + ".";
    const charts = [];
    const builders = { budget: budgetChart, sli: sliChart, burn: burnChart };
    container.querySelectorAll("[data-chart]").forEach(function (el) {
      el.replaceChildren();
      charts.push({ el: el, plot: builders[el.dataset.chart](el, doc, zone, markers) });
    });
    listMarkers(container.querySelector(".chart-markers"), markers, zone);
    let pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (c) {
          c.plot.setSize({ width: Math.max(c.el.clientWidth, 280), height: HEIGHT });
        });
      }, 150);
    });
  }

  function load(container) {
    const status = container.querySelector(".chart-status");
    fetch(container.dataset.src, {
      credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" },
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 204) {
        throw new Error("your session has ended: reload the page to sign in again");
      }
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.detail || "the chart data could not be read");
        return body;
      });
    }).then(function (doc) {
      draw(container, doc);
    }).catch(function (error) {
      status.textContent = "Charts unavailable: " + error.message;
      status.classList.add("bad");
    });
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("#slo-charts[data-src]").forEach(load);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.Watchkeeper = window.Watchkeeper || {};
  window.Watchkeeper.charts = { load: load };
})();
