/* Dashboard charts (Apache ECharts, vendored). Reads the figures the page embeds as JSON; every
   chart element links to the responses behind it, and every chart has a table beside it. */
(function () {
  "use strict";
  var FONT = '"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif';
  // Okabe–Ito: distinguishable with every common form of colour blindness.
  var OI = { blue: "#0072B2", orange: "#E69F00", sky: "#56B4E9", green: "#009E73", vermillion: "#D55E00", purple: "#CC79A7", grey: "#999999", black: "#000000" };
  // Typing a date means a custom range: say so in the period picker.
  ["f-from", "f-to"].forEach(function (id) {
    var input = document.getElementById(id), period = document.getElementById("f-period");
    if (input && period) input.addEventListener("change", function () { period.value = "custom"; });
  });
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var L = data.labels;
  var charts = [];

  function init(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    var chart = echarts.init(el, null, { renderer: "svg" });
    charts.push(chart);
    chart.on("click", function (p) {
      var d = p.data;
      if (d && d.href) window.location.href = d.href;
    });
    return chart;
  }
  function fmt(x) { return x === null || x === undefined ? "–" : (Math.round(x * 10) / 10).toString(); }
  function tip(d) {
    var s = "<b>" + d.name + "</b><br>" + data.metricLabel + " " + fmt(d.value);
    if (d.lo !== null && d.lo !== undefined) s += "<br>" + L.interval + " " + fmt(d.lo) + " – " + fmt(d.hi);
    s += "<br>" + L.n + " = " + d.n;
    if (d.small) s += "<br>" + L.smallN;
    if (d.alert) s += "<br>" + L.alert;
    return s;
  }
  var base = { textStyle: { fontFamily: FONT }, aria: { enabled: true }, animation: false };

  // Trend: the value line, its interval as a band (lower bound + stacked width), alerts marked.
  var trend = init("chart-trend");
  if (trend) {
    var periods = data.trend.map(function (p) { return p.period; });
    var points = data.trend.map(function (p) {
      return { name: p.period, value: p.value, lo: p.lo, hi: p.hi, n: p.n, small: p.small, alert: p.alert, href: p.href,
        symbolSize: p.alert ? 11 : 5,
        itemStyle: { color: p.alert ? OI.vermillion : (p.small ? OI.grey : OI.blue) } };
    });
    var alerts = data.trend.filter(function (p) { return p.alert; }).map(function (p) {
      return { coord: [p.period, p.value], value: "!", href: p.href, itemStyle: { color: OI.vermillion } };
    });
    trend.setOption(Object.assign({}, base, {
      grid: { left: 48, right: 48, top: 16, bottom: 56 },  // room for the dashed line's label
      tooltip: { trigger: "item", formatter: function (p) { return p.data && p.data.n !== undefined ? tip(p.data) : ""; } },
      xAxis: { type: "category", data: periods, boundaryGap: false },
      yAxis: { type: "value", scale: true },
      dataZoom: periods.length > 45 ? [{ type: "slider", height: 18, bottom: 8 }] : [],
      series: [
        { name: "lo", type: "line", data: data.trend.map(function (p) { return p.lo; }), stack: "band", stackStrategy: "all",
          lineStyle: { opacity: 0 }, symbol: "none", silent: true, tooltip: { show: false } },
        { name: L.interval, type: "line", data: data.trend.map(function (p) { return p.lo === null || p.hi === null ? null : p.hi - p.lo; }),
          stack: "band", stackStrategy: "all", lineStyle: { opacity: 0 }, symbol: "none", silent: true,
          areaStyle: { color: OI.sky, opacity: 0.3 }, tooltip: { show: false } },
        { name: data.metricLabel, type: "line", data: points, symbol: "circle", lineStyle: { color: OI.blue, width: 2 },
          markPoint: { symbol: "pin", symbolSize: 34, data: alerts, label: { color: "#fff" } },
          markLine: data.overall && data.overall.value !== null ? { symbol: "none", silent: true, lineStyle: { color: OI.black, type: "dashed" },
            data: [{ yAxis: data.overall.value }], label: { formatter: fmt(data.overall.value) } } : undefined }
      ]
    }));
  }

  // League: a caterpillar plot, units best first, each interval a segment and the value a dot.
  var league = init("chart-league");
  if (league) {
    var rows = data.league.slice().reverse(); // the y axis runs upwards: best at the top
    var names = rows.map(function (r) { return r.name; });
    var segments = [];
    rows.forEach(function (r, i) {
      if (r.lo !== null && r.hi !== null) segments.push([r.lo, i], [r.hi, i], [null, null]);
    });
    league.setOption(Object.assign({}, base, {
      grid: { left: 120, right: 24, top: 8, bottom: 32 },
      tooltip: { trigger: "item", formatter: function (p) { return p.data && p.data.n !== undefined ? tip(p.data) : ""; } },
      xAxis: { type: "value", scale: true },
      yAxis: { type: "category", data: names, axisLabel: { width: 110, overflow: "truncate" } },
      series: [
        { type: "line", data: segments, connectNulls: false, symbol: "none", silent: true,
          lineStyle: { color: OI.grey, width: 2 }, tooltip: { show: false } },
        { type: "scatter", symbolSize: 10, data: rows.map(function (r, i) {
            return { name: r.name, value: [r.value, i], lo: r.lo, hi: r.hi, n: r.n, small: r.small, href: r.href,
              itemStyle: { color: r.small ? "#c8c8c8" : OI.blue, borderColor: r.small ? OI.grey : OI.blue } };
          }).filter(function (d) { return d.value[0] !== null; }) }
      ]
    }));
  }

  // Distribution: one horizontal bar per group.
  var dist = init("chart-dist");
  if (dist) {
    var colours = { promoter: OI.green, passive: OI.orange, detractor: OI.vermillion };
    dist.setOption(Object.assign({}, base, {
      grid: { left: 130, right: 48, top: 8, bottom: 24 },
      tooltip: { trigger: "item", formatter: function (p) { return p.data.name + ": " + p.data.count + " (" + fmt(p.data.value) + "%)"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: data.distribution.map(function (b) { return b.label; }), inverse: true },
      series: [{ type: "bar", barWidth: "60%", label: { show: true, position: "right", formatter: function (p) { return fmt(p.value) + "%"; } },
        data: data.distribution.map(function (b) {
          return { name: b.label, value: b.share, count: b.count, href: b.href, itemStyle: { color: colours[b.key] } };
        }) }]
    }));
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
