/* The mine register form: 盟市 → 旗县 dependent selects, branch suggestion, JSON to the API, field errors. */
(function () {
  "use strict";
  var form = document.getElementById("mine-form");
  if (!form) return;
  var regions = JSON.parse(document.getElementById("regions-data").textContent);
  var mineralGroups = JSON.parse(document.getElementById("mineral-groups").textContent);
  var mine = JSON.parse(document.getElementById("mine-data").textContent);
  var summary = document.getElementById("form-summary");
  var league = form.querySelector("#f-league");
  var county = form.querySelector("#f-county");
  var mineral = form.querySelector("#f-mineral");
  var otherField = document.getElementById("other-mineral-field");
  var groupHint = document.getElementById("hint-group");
  var longTerm = form.querySelector("#f-business-long");
  var businessTo = form.querySelector("#f-business_licence-to");
  var readonly = form.dataset.readonly === "1";

  function fillCounties(selected) {
    var counties = regions[league.value] || [];
    county.innerHTML = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = league.value ? "请选择旗县（市、区）" : "请先选择盟市";
    county.appendChild(first);
    counties.forEach(function (c) {
      var option = document.createElement("option");
      option.value = c[0];
      option.textContent = c[1];
      county.appendChild(option);
    });
    county.disabled = !league.value || readonly;
    if (selected) county.value = selected;
  }

  function suggestGroup() {
    var group = mineralGroups[mineral.value];
    otherField.hidden = mineral.value !== "other";
    if (!group) { groupHint.textContent = ""; return; }
    groupHint.textContent = "按主要矿种，建议选择" + (group === 1 ? "（一）" : "（二）") + "；请按矿山主要产品确认。";
    var checked = form.querySelector('input[name="industry_group"]:checked');
    if (!checked) {
      var radio = form.querySelector('input[name="industry_group"][value="' + group + '"]');
      if (radio) radio.checked = true;
    }
  }

  function set(name, value) {
    var el = form.querySelector('[name="' + name + '"]');
    if (el && value !== undefined && value !== null) el.value = value;
  }

  function load(m) {
    set("enterprise.name", m.enterprise.name);
    set("name", m.name);
    league.value = m.league;
    fillCounties(m.county);
    var minerals = m.minerals || [];
    if (minerals.length) {
      mineral.value = minerals[0].code;
      if (minerals[0].code === "other") set("minerals[0].other", minerals[0].other);
    }
    minerals.slice(1).forEach(function (x) {
      var box = form.querySelector('input[name="extra_mineral"][value="' + x.code + '"]');
      if (box) box.checked = true;
    });
    if (minerals.length > 1) document.getElementById("more-minerals").open = true;
    set("scale", m.scale);
    var radio = form.querySelector('input[name="industry_group"][value="' + m.industry_group + '"]');
    if (radio) radio.checked = true;
    set("mining_method", m.mining_method);
    set("production_status", m.production_status);
    set("production_start_date", m.production_start_date);
    set("production_stopped_on", m.production_stopped_on);
    set("mining_area", m.mining_area);
    set("remaining_reserve_years", m.remaining_reserve_years);
    ["mining_licence", "safety_licence", "business_licence"].forEach(function (key) {
      var lic = m[key] || {};
      set(key + ".number", lic.number);
      set(key + ".valid_from", lic.valid_from);
      set(key + ".valid_to", lic.valid_to);
    });
    if (longTerm) { longTerm.checked = !m.business_licence.valid_to; businessTo.disabled = longTerm.checked || readonly; }
    suggestGroup();
  }

  function value(name) {
    var el = form.querySelector('[name="' + name + '"]');
    return el ? el.value.trim() : "";
  }

  function collect() {
    var minerals = [];
    if (mineral.value === "other") minerals.push({code: "other", other: value("minerals[0].other")});
    else if (mineral.value) minerals.push(mineral.value);
    form.querySelectorAll('input[name="extra_mineral"]:checked').forEach(function (box) {
      if (box.value !== mineral.value) minerals.push(box.value);
    });
    var group = form.querySelector('input[name="industry_group"]:checked');
    var body = {
      enterprise: {name: value("enterprise.name"), credit_code: value("enterprise.credit_code")},
      name: value("name"),
      league: league.value, county: county.value,
      minerals: minerals,
      scale: value("scale"),
      industry_group: group ? parseInt(group.value, 10) : null,
      mining_method: value("mining_method"),
      production_status: value("production_status"),
      production_start_date: value("production_start_date") || null,
      production_stopped_on: value("production_stopped_on") || null,
      mining_area: value("mining_area") || null,
      remaining_reserve_years: value("remaining_reserve_years"),
      mining_licence: {number: value("mining_licence.number"), valid_from: value("mining_licence.valid_from"),
                       valid_to: value("mining_licence.valid_to")},
      safety_licence: {number: value("safety_licence.number"), valid_from: value("safety_licence.valid_from"),
                       valid_to: value("safety_licence.valid_to")},
      business_licence: {valid_from: value("business_licence.valid_from"),
                         valid_to: longTerm && longTerm.checked ? null : value("business_licence.valid_to")}
    };
    if (form.dataset.version) body.expected_version = parseInt(form.dataset.version, 10);
    return body;
  }

  league.addEventListener("change", function () { fillCounties(""); });
  mineral.addEventListener("change", suggestGroup);
  if (longTerm) longTerm.addEventListener("change", function () { businessTo.disabled = longTerm.checked; });
  fillCounties("");
  if (mine) load(mine);
  if (readonly) {
    form.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = true; });
    return;
  }

  var status = document.getElementById("mine-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = document.getElementById("save-mine");
    button.disabled = true;
    status.textContent = "正在保存……";
    var id = form.dataset.mineId;
    var request = id ? Intake.apiWithRenewal("PUT", "/api/v1/mines/" + encodeURIComponent(id), collect())
                     : Intake.apiWithRenewal("POST", "/api/v1/mines", collect());
    request.then(function (result) {
      button.disabled = false;
      if (result.ok) {
        status.textContent = "已保存";
        location.href = "/intake/?saved=" + encodeURIComponent(result.data.id);
        return;
      }
      status.textContent = "";
      if (result.status === 401) {
        summary.hidden = false;
        summary.innerHTML = "<p><strong>登录已过期，填写的内容仍在本页。</strong>" + Intake.loginLink() + "，登录后再点保存。</p>";
        summary.focus();
        return;
      }
      var data = result.data || {};
      Intake.showFieldErrors(form, data.errors || {}, summary, data.message);
    });
  });
})();
