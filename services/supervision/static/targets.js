/* The targets dashboard's charts (Apache ECharts, served from our own static files): the share of green mines per
   盟市 against the 2028 targets, the licensed producing and green mines per 盟市, the construction contracts. */
(function () {
  "use strict";
  var source = document.getElementById("targets-data");
  if (!source || typeof echarts === "undefined") return;
  var view = JSON.parse(source.textContent);
  var leagues = view.leagues.map(function (l) { return l.league; });

  function rows(scale) {
    return leagues.map(function (league) {
      return view.rows.filter(function (r) { return r.league === league && r.scale === scale; })[0];
    });
  }
  function share(r) { return r.share === null ? null : Number(r.share); }
  function sum(league, key) {
    return view.rows.filter(function (r) { return r.league === league; })
      .reduce(function (total, r) { return total + r[key]; }, 0);
  }
  function chart(id, option) {
    var node = document.getElementById(id);
    var instance = echarts.init(node, null, {renderer: "canvas"});
    instance.setOption(option);
    window.addEventListener("resize", function () { instance.resize(); });
    node.setAttribute("data-rendered", "true");
  }
  var axis = {type: "category", data: leagues, axisLabel: {interval: 0, rotate: 40}};

  chart("chart-share", {
    title: {text: "大中型矿山绿色矿山占比（%）", left: "center", textStyle: {fontSize: 14}},
    tooltip: {trigger: "axis"}, legend: {bottom: 0},
    grid: {left: 40, right: 40, top: 40, bottom: 90},
    xAxis: axis, yAxis: {type: "value", max: 100},
    series: [
      {name: "大型", type: "bar", data: rows("large").map(share),
       markLine: {symbol: "none", data: [{yAxis: 90, name: "大型目标 90%"}], label: {formatter: "90%"}}},
      {name: "中型", type: "bar", data: rows("medium").map(share),
       markLine: {symbol: "none", data: [{yAxis: 80, name: "中型目标 80%"}], label: {formatter: "80%"}}}
    ]
  });

  chart("chart-counts", {
    title: {text: "持证在产矿山与在库绿色矿山（座）", left: "center", textStyle: {fontSize: 14}},
    tooltip: {trigger: "axis"}, legend: {bottom: 0},
    grid: {left: 40, right: 20, top: 40, bottom: 90},
    xAxis: axis, yAxis: {type: "value", minInterval: 1},
    series: [
      {name: "考核基数", type: "bar", data: leagues.map(function (l) { return sum(l, "base"); })},
      {name: "在库绿色矿山", type: "bar", data: leagues.map(function (l) { return sum(l, "listed"); })},
      {name: "参照管理（小型及可采不足3年）", type: "bar", data: leagues.map(function (l) {
        return view.rows.filter(function (r) { return r.league === l; }).reduce(function (t, r) {
          return t + r.short_reserve + (r.scale === "small" ? r.base : 0); }, 0); })}
    ]
  });

  var contracts = {completed: 0, in_progress: 0, breached: 0};
  view.leagues.forEach(function (l) {
    contracts.completed += l.contracts.completed;
    contracts.in_progress += l.contracts.in_progress;
    contracts.breached += l.contracts.breached;
  });
  var slices = [
    {name: "已完成", value: contracts.completed, itemStyle: {color: "#1f6f43"}},
    {name: "履行中", value: contracts.in_progress, itemStyle: {color: "#5b8db8"}},
    {name: "违约", value: contracts.breached, itemStyle: {color: "#b3261e"}}
  ].filter(function (slice) { return slice.value > 0; });
  chart("chart-contracts", {
    title: {text: "绿色矿山建设合同（份）", left: "center", textStyle: {fontSize: 14}},
    tooltip: {trigger: "item", formatter: "{b}：{c} 份（{d}%）"}, legend: {bottom: 0},
    graphic: slices.length ? [] : [{type: "text", left: "center", top: "middle",
                                    style: {text: "暂无登记的建设合同", fontSize: 14, fill: "#5f6b72"}}],
    series: slices.length ? [{type: "pie", radius: ["35%", "60%"], data: slices,
                              label: {position: "inside", formatter: "{c}", color: "#fff"}}] : []
  });
})();
