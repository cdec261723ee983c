/* The self-assessment form: collect the assessment (scoring contract shape), running score from the scoring
   service (debounced; the engine is the one source of truth), autosave (PUT), a localStorage copy so nothing
   typed is lost on an expired session or a failed request, evidence uploads per indicator. */
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form) return;
  var appId = form.dataset.appId;
  var editable = form.dataset.editable === "1";
  var model = JSON.parse(document.getElementById("form-data").textContent);
  var serverDraft = JSON.parse(document.getElementById("draft-data").textContent);
  var storageKey = "greenmine:intake:draft:" + appId;
  var saveStatus = document.getElementById("save-status");
  var variantSelect = document.getElementById("f-variant");

  function indicatorSets() { return Array.prototype.slice.call(form.querySelectorAll("fieldset.indicator")); }

  /* ---- reading and writing the controls ---------------------------------------------------------------- */
  function entryOf(fs) {
    var state = fs.querySelector("select.state");
    if (!state || !state.value) return null;
    var kind = fs.dataset.kind;
    switch (state.value) {
      case "full": return {score: fs.dataset.points};
      case "zero": return {score: "0"};
      case "na": return {not_applicable: true, reason: fs.querySelector("textarea.reason").value};
      case "score":
        var v = fs.querySelector("input.score").value.trim();
        return v === "" ? null : {score: v};
      case "assessed":
        if (kind === "deduct_per_finding") {
          var raw = fs.querySelector("input.findings").value.trim();
          if (raw === "") return {findings: 0};
          var n = Number(raw);
          return Number.isInteger(n) && n >= 0 ? {findings: n} : null;
        }
        if (kind === "conditional_deductions") {
          return {deductions: Array.prototype.map.call(fs.querySelectorAll("input.deduction:checked"),
                                                       function (b) { return b.value; })};
        }
        var items = {};
        fs.querySelectorAll("input.item").forEach(function (b) { if (b.checked) items[b.dataset.item] = true; });
        fs.querySelectorAll("input.item-count").forEach(function (i) {
          var c = parseInt(i.value, 10);
          if (c > 0) items[i.dataset.item] = c;
        });
        return {items: items};
    }
    return null;
  }

  function collect() {
    var assessment = {catalog: model.catalog, prerequisites: {}, indicators: {},
                      mine: {industry_group: model.industry_group, mining_method: model.mining_method}};
    if (variantSelect && variantSelect.value) assessment.mine.industry_variant = variantSelect.value;
    model.prerequisites.forEach(function (code) {
      var r = form.querySelector('input[name="pre-' + code + '"]:checked');
      if (r) assessment.prerequisites[code] = r.value === "true";
    });
    indicatorSets().forEach(function (fs) {
      var e = entryOf(fs);
      if (e) assessment.indicators[fs.dataset.key] = e;
    });
    var records = {};
    form.querySelectorAll("[data-record]").forEach(function (t) {
      if (t.value.trim()) records[t.dataset.record] = t.value;
    });
    return {assessment: assessment, records: records};
  }

  function showDetails(fs) {
    var state = fs.querySelector("select.state");
    var value = state ? state.value : "";
    fs.querySelectorAll(".detail").forEach(function (d) { d.hidden = d.dataset.for !== value; });
    fs.classList.toggle("filled", !!value);
  }

  function fill(draft) {
    var a = (draft && draft.assessment) || {};
    var indicators = a.indicators || {};
    var prerequisites = a.prerequisites || {};
    var records = (draft && draft.records) || {};
    if (variantSelect && a.mine && a.mine.industry_variant) variantSelect.value = a.mine.industry_variant;
    model.prerequisites.forEach(function (code) {
      form.querySelectorAll('input[name="pre-' + code + '"]').forEach(function (r) {
        r.checked = prerequisites[code] !== undefined && String(prerequisites[code]) === r.value;
      });
    });
    form.querySelectorAll("[data-record]").forEach(function (t) {
      var key = t.dataset.record;
      t.value = records[key] || (indicators[key] && indicators[key].record) || "";
    });
    indicatorSets().forEach(function (fs) {
      var state = fs.querySelector("select.state");
      if (!state) return;
      var e = indicators[fs.dataset.key];
      fs.querySelectorAll("input.score, input.findings, input.item-count, textarea.reason").forEach(function (i) { i.value = ""; });
      fs.querySelectorAll("input.deduction, input.item").forEach(function (b) { b.checked = false; });
      if (!e) { state.value = ""; }
      else if (e.not_applicable) { state.value = "na"; fs.querySelector("textarea.reason").value = e.reason || ""; }
      else if (e.score !== undefined) {
        var s = Number(e.score);
        if (fs.dataset.kind === "all_or_nothing" && s === Number(fs.dataset.points)) state.value = "full";
        else if (fs.dataset.kind === "all_or_nothing" && s === 0) state.value = "zero";
        else { state.value = "score"; fs.querySelector("input.score").value = e.score; }
      } else if (e.findings !== undefined) {
        state.value = "assessed"; fs.querySelector("input.findings").value = e.findings;
      } else if (e.deductions !== undefined) {
        state.value = "assessed";
        e.deductions.forEach(function (id) {
          var b = fs.querySelector('input.deduction[value="' + id + '"]');
          if (b) b.checked = true;
        });
      } else if (e.items !== undefined) {
        state.value = "assessed";
        Object.keys(e.items).forEach(function (id) {
          var b = fs.querySelector('input.item[data-item="' + id + '"]');
          if (b) b.checked = !!e.items[id];
          var c = fs.querySelector('input.item-count[data-item="' + id + '"]');
          if (c) c.value = e.items[id] === true ? 1 : e.items[id];
        });
      }
      showDetails(fs);
    });
    showVariant();
  }

  function showVariant() {
    if (!variantSelect) return;
    form.querySelectorAll(".rule[data-variant]").forEach(function (p) { p.hidden = p.dataset.variant !== variantSelect.value; });
  }

  function canonical(value) {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) { return JSON.stringify(k) + ":" + canonical(value[k]); }).join(",") + "}";
    }
    return JSON.stringify(value);
  }

  /* ---- the local copy ------------------------------------------------------------------------------------ */
  function readLocal() {
    try { return JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { return null; }
  }
  function writeLocal(content, synced) {
    try {
      localStorage.setItem(storageKey, JSON.stringify({content: content, saved_at: Date.now(), synced: synced}));
    } catch (e) { /* storage full or disabled: the server copy still works */ }
  }

  /* ---- autosave ------------------------------------------------------------------------------------------ */
  var saving = null;
  var dirty = false;
  var retryTimer = null;
  var lastSaved = canonical({assessment: null});

  function setSaveStatus(html, tone) {
    saveStatus.innerHTML = html;
    saveStatus.className = "save-status " + (tone || "");
  }

  function save() {
    if (!editable) return Promise.resolve(true);
    if (saving) { dirty = true; return saving; }
    var content = collect();
    var key = canonical(content);
    if (!dirty && key === lastSaved) return Promise.resolve(true);
    dirty = false;
    setSaveStatus("正在保存……");
    saving = Intake.apiWithRenewal("PUT", "/api/v1/applications/" + encodeURIComponent(appId),
                                   {assessment: content.assessment, records: content.records})
      .then(function (result) {
        saving = null;
        if (result.ok) {
          lastSaved = key;
          if (canonical(collect()) === key) writeLocal(content, true);
          var now = new Date();
          setSaveStatus("已自动保存 " + now.toLocaleTimeString("zh-CN", {hour12: false, timeZone: "Asia/Shanghai"}), "ok");
          clearServerErrors();
          if (dirty || canonical(collect()) !== key) { dirty = false; autosave(); }
          return true;
        }
        dirty = true;
        if (result.status === 401) {
          setSaveStatus("登录已过期，填写的内容已保存在本机。" + Intake.loginLink() + "，登录后将自动继续保存。", "bad");
          retryLater();
        } else if (result.status === 422) {
          showServerErrors(result.data.errors || {});
          setSaveStatus("有内容未能保存：" + Intake.escapeHtml(Intake.errorText(result)), "bad");
        } else if (result.status === 409 || result.status === 403) {
          setSaveStatus(Intake.escapeHtml(Intake.errorText(result)), "bad");
        } else {
          setSaveStatus("暂时无法保存（" + Intake.escapeHtml(Intake.errorText(result)) + "），内容已保存在本机，稍后自动重试。", "bad");
          retryLater();
        }
        return false;
      });
    return saving;
  }

  function retryLater() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      Intake.renewSession().then(function (ok) { if (ok) { dirty = true; save(); } else retryLater(); });
    }, 5000);
  }

  var autosave = Intake.debounce(save, 1200);

  function flush() {
    autosave.cancel();
    return Promise.resolve(saving).then(function () { dirty = true; return save(); });
  }

  /* ---- running score ---------------------------------------------------------------------------------------- */
  var evalSeq = 0;
  var scoreTotal = document.getElementById("score-total");
  var scoreVerdict = document.getElementById("score-verdict");
  var scoreProgress = document.getElementById("score-progress");
  var scoreCategories = document.getElementById("score-categories");
  var scoreProblems = document.getElementById("score-problems");

  function applicableKeys() {
    return Object.keys(model.indicators).filter(function (k) { return !model.indicators[k].no_rule; });
  }

  function evaluate() {
    var content = collect();
    var assessment = JSON.parse(JSON.stringify(content.assessment));
    var missing = applicableKeys().filter(function (k) { return !(k in assessment.indicators); });
    var undecided = model.prerequisites.filter(function (c) { return !(c in assessment.prerequisites); });
    var complete = missing.length === 0 && undecided.length === 0;
    missing.forEach(function (k) { assessment.indicators[k] = model.indicators[k].provisional; });
    undecided.forEach(function (c) { assessment.prerequisites[c] = true; });
    Object.keys(content.records).forEach(function (k) {
      if (assessment.indicators[k] && !missing.includes(k)) assessment.indicators[k].record = content.records[k];
    });
    // 缺少支撑材料或证明材料不得分: every filled entry says which evidence supports it (as the submission will).
    Object.keys(assessment.indicators).forEach(function (k) {
      var e = assessment.indicators[k];
      if (!missing.includes(k) && e && !e.not_applicable) e.evidence = evidenceOf(k);
    });
    var filled = applicableKeys().length - missing.length;
    scoreProgress.textContent = "已填写指标 " + filled + " / " + applicableKeys().length + " 项，先决条件 " +
      (model.prerequisites.length - undecided.length) + " / " + model.prerequisites.length + " 项";
    var seq = ++evalSeq;
    Intake.api("POST", "/api/v1/scoring/evaluate", assessment).then(function (result) {
      if (seq !== evalSeq) return;  // a newer evaluation is on its way
      render(result, complete, missing, undecided);
    });
  }
  var evaluateSoon = Intake.debounce(evaluate, 400);

  function evidenceOf(key) {
    return Array.prototype.map.call(
      form.querySelectorAll('[data-evidence-for="' + key + '"] li[data-attachment]'),
      function (li) { return li.dataset.attachment; });
  }

  function clearLive() {
    form.querySelectorAll("[data-live-for]").forEach(function (p) { p.textContent = ""; p.className = "live"; });
    indicatorSets().forEach(function (fs) { fs.classList.remove("short", "invalid"); });
    form.querySelectorAll('[data-error-for^="assessment."]').forEach(function (p) { p.hidden = true; p.textContent = ""; });
  }

  function render(result, complete, missing, undecided) {
    clearLive();
    scoreProblems.innerHTML = "";
    if (result.status === 401) {
      scoreVerdict.innerHTML = "登录已过期，暂无法计算得分。" + Intake.loginLink();
      return;
    }
    if (result.status === 422) {
      var errors = (result.data && result.data.errors) || {};
      var items = [];
      Object.keys(errors).forEach(function (field) {
        var message = [].concat(errors[field]).join("；");
        var m = /^indicators\.(\d+)/.exec(field) || /^(prerequisites)\.(P\d+)/.exec(field);
        var key = m ? (m[2] || m[1]) : null;
        if (key) {
          var target = form.querySelector('[data-error-for="assessment.' + (key[0] === "P" ? "prerequisites." : "indicators.") + key + '"]');
          if (target) { target.hidden = false; target.textContent = message; }
          var fs = document.getElementById((key[0] === "P" ? "pre-" : "ind-") + key);
          if (fs) fs.classList.add("invalid");
        }
        items.push("<li>" + (key ? '<a href="#' + (key[0] === "P" ? "pre-" : "ind-") + key + '">' : "") +
                   Intake.escapeHtml(message) + (key ? "</a>" : "") + "</li>");
      });
      scoreVerdict.textContent = "有 " + items.length + " 处填写需要修改（得分未更新）";
      scoreVerdict.className = "verdict bad";
      scoreProblems.innerHTML = "<ul>" + items.join("") + "</ul>";
      return;
    }
    if (!result.ok) {
      scoreVerdict.textContent = "评分服务暂时不可用，稍后自动重试（填写不受影响）";
      scoreVerdict.className = "verdict warn";
      setTimeout(evaluateSoon, 5000);
      return;
    }
    var report = result.data;
    scoreTotal.textContent = report.total;
    if (complete) {
      scoreVerdict.textContent = "结论：" + report.verdict_label;
      scoreVerdict.className = "verdict " + (report.verdict === "qualified" ? "ok" : "bad");
    } else {
      scoreVerdict.textContent = "尚未填完：还有 " + missing.length + " 项指标、" + undecided.length +
        " 项先决条件（未填指标按0分计）";
      scoreVerdict.className = "verdict warn";
    }
    scoreCategories.innerHTML = report.categories.map(function (c) {
      return "<li><span>" + Intake.escapeHtml(c.name) + "</span><span>" + c.score + " / " + c.points + "</span></li>";
    }).join("");
    var short = [];
    Object.keys(report.indicator_scores).forEach(function (key) {
      if (missing.includes(key)) return;
      var s = report.indicator_scores[key];
      var live = form.querySelector('[data-live-for="' + key + '"]');
      if (!live) return;
      if (s.not_applicable) { live.textContent = "不涉及（按折合法计分）"; return; }
      live.textContent = "得分 " + s.score + " / " + s.points;
      if (s.unsupported) {
        live.textContent = "自评 " + s.claimed_score + " 分，" + (s.note || "缺少支撑材料，按0分计") +
          "：请在下方上传佐证材料";
        live.className = "live bad unsupported";
      }
      if (s.binding && Number(s.score) !== Number(s.points)) {
        live.textContent += (s.unsupported ? "；" : "：") + "约束性指标未得满分，不达标";
        live.className = "live bad";
        document.getElementById("ind-" + key).classList.add("short");
        short.push('<li><a href="#ind-' + key + '">第' + key + "项「" + Intake.escapeHtml(s.name) + "」" + s.score + " / " + s.points + "</a></li>");
      }
    });
    (report.failed_prerequisites || []).forEach(function (code) {
      if (undecided.includes(code)) return;
      short.push('<li><a href="#pre-' + code + '">先决条件' + code + "未满足</a></li>");
    });
    if (short.length) scoreProblems.innerHTML = "<p><strong>未达标的项目：</strong></p><ul>" + short.join("") + "</ul>";
  }

  /* ---- evidence ----------------------------------------------------------------------------------------------- */
  function addFileItem(list, attachment) {
    var li = document.createElement("li");
    li.dataset.attachment = attachment.id;
    li.innerHTML = '<a href="' + attachment.download_url + '">' + Intake.escapeHtml(attachment.filename) + "</a> <small>" +
      Intake.formatSize(attachment.size) + '</small> <button type="button" class="link remove-file" data-attachment="' +
      attachment.id + '" aria-label="删除 ' + Intake.escapeHtml(attachment.filename) + '">删除</button>';
    list.appendChild(li);
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.classList.contains("evidence-file")) return;
    var key = input.dataset.indicator;
    var list = form.querySelector('[data-evidence-for="' + key + '"]');
    var error = form.querySelector('[data-upload-error-for="' + key + '"]');
    error.hidden = true;
    var files = Array.prototype.slice.call(input.files);
    var chain = Promise.resolve();
    files.forEach(function (file) {
      chain = chain.then(function () {
        return Intake.upload(appId, "evidence", key, file).then(function (result) {
          if (result.ok) { addFileItem(list, result.data); return; }
          error.hidden = false;
          error.innerHTML = Intake.escapeHtml(file.name + "：" + Intake.errorText(result)) +
            (result.status === 401 ? "。" + Intake.loginLink() : "");
        });
      });
    });
    chain.then(function () { input.value = ""; evaluateSoon(); });
  });

  form.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-file");
    if (!button) return;
    var id = button.dataset.attachment;
    Intake.apiWithRenewal("DELETE", "/api/v1/applications/" + encodeURIComponent(appId) + "/attachments/" + encodeURIComponent(id))
      .then(function (result) {
        if (result.ok) { var li = button.closest("li"); li.parentNode.removeChild(li); evaluateSoon(); }
        else setSaveStatus(Intake.escapeHtml(Intake.errorText(result)), "bad");
      });
  });

  var toggle = document.querySelector(".panel-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var panel = toggle.closest(".score-panel");
      var open = !panel.classList.contains("open");
      panel.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.textContent = open ? "收起明细" : "得分明细";
    });
  }

  /* ---- the category menu and "next unfilled item" ------------------------------------------------------------ */
  var menuList = document.getElementById("menu-list");
  var menuToggle = document.getElementById("menu-toggle");
  var nextButton = document.getElementById("next-unfilled");
  var nextStatus = document.getElementById("next-status");

  // Every item to fill, in the order of the form: the prerequisites, then the indicators that have a rule.
  function items() {
    var out = [];
    model.prerequisites.forEach(function (code) {
      out.push({el: document.getElementById("pre-" + code), group: "pre", key: code});
    });
    indicatorSets().forEach(function (fs) {
      var info = model.indicators[fs.dataset.key];
      if (info && !info.no_rule) out.push({el: fs, group: String(info.category), key: fs.dataset.key});
    });
    return out;
  }

  function isFilled(item, content) {
    if (item.group === "pre") return item.key in content.assessment.prerequisites;
    return item.key in content.assessment.indicators;
  }

  function updateMenu() {
    if (!menuList) return;
    var content = collect();
    var counts = {};
    items().forEach(function (item) {
      var c = counts[item.group] || (counts[item.group] = {filled: 0, total: 0});
      c.total += 1;
      if (isFilled(item, content)) c.filled += 1;
    });
    menuList.querySelectorAll("[data-count-for]").forEach(function (span) {
      var c = counts[span.dataset.countFor] || {filled: 0, total: 0};
      span.textContent = c.filled + "/" + c.total;
      var link = span.closest("a");
      link.classList.toggle("complete", c.total > 0 && c.filled === c.total);
      link.setAttribute("aria-label", link.querySelector(".menu-name").textContent + "，已填 " + c.filled + " 项，共 " + c.total + " 项");
    });
  }

  // Scroll an item to the top of the screen, below the score bar that sticks to the top on a phone.
  function scrollToItem(el) {
    el.scrollIntoView({block: "start"});
    var panel = document.querySelector(".score-panel");
    if (panel && getComputedStyle(panel).position === "sticky" && window.matchMedia("(max-width: 900px)").matches) {
      var covered = panel.getBoundingClientRect().bottom - el.getBoundingClientRect().top;
      if (covered > -8) window.scrollBy(0, -(covered + 8));
    }
  }

  function focusItem(el) {
    scrollToItem(el);
    var control = el.querySelector("select.state, input[type=radio]:checked, input[type=radio], input, textarea");
    if (control) control.focus({preventScroll: true});
    else { el.setAttribute("tabindex", "-1"); el.focus({preventScroll: true}); }
  }

  function nextUnfilled() {
    var all = items();
    var content = collect();
    var open = all.filter(function (item) { return !isFilled(item, content); });
    if (!open.length) {
      nextStatus.textContent = "全部 " + all.length + " 项（先决条件和评分指标）均已填写。";
      return;
    }
    // the first unfilled item after the one last edited (or after the top of the screen), wrapping around
    var from = lastItem ? all.findIndex(function (item) { return item.el === lastItem; }) : -1;
    if (from < 0) {
      from = all.findIndex(function (item) { return item.el.getBoundingClientRect().bottom > 0; }) - 1;
    }
    var target = null;
    for (var i = 1; i <= all.length; i++) {
      var item = all[(from + i + all.length) % all.length];
      if (!isFilled(item, content)) { target = item; break; }
    }
    var wrapped = all.indexOf(target) <= from;
    var name = target.group === "pre" ? "先决条件" + target.key : "第" + target.key + "项「" + model.indicators[target.key].name + "」";
    nextStatus.textContent = (wrapped && from >= 0 ? "已从头查找：" : "") + "转到" + name + "（还有 " + open.length + " 项未填）";
    focusItem(target.el);
  }

  var lastItem = null;  // the item last focused in the form (clicking the button moves the focus away from it)
  form.addEventListener("focusin", function (event) {
    var fs = event.target.closest("fieldset.indicator, fieldset.prereq");
    if (fs) lastItem = fs;
  });
  if (nextButton) nextButton.addEventListener("click", nextUnfilled);
  if (menuToggle) {
    menuToggle.addEventListener("click", function () {
      var open = menuToggle.getAttribute("aria-expanded") !== "true";
      menuToggle.setAttribute("aria-expanded", open ? "true" : "false");
      document.getElementById("form-menu").classList.toggle("open", open);
    });
  }
  if (menuList) {
    menuList.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      event.preventDefault();
      var section = document.getElementById(link.getAttribute("href").slice(1));
      var first = section.querySelector("fieldset.prereq, fieldset.indicator") || section;
      if (menuToggle && menuToggle.getAttribute("aria-expanded") === "true") menuToggle.click();
      scrollToItem(section);
      var control = first.querySelector("select.state, input, textarea");
      if (control && !control.disabled) control.focus({preventScroll: true});
      history.replaceState(null, "", link.getAttribute("href"));
    });
  }

  /* ---- wiring ------------------------------------------------------------------------------------------------- */
  function clearServerErrors() {
    form.querySelectorAll("[data-server-error]").forEach(function (p) { p.remove(); });
  }

  function showServerErrors(errors) {
    clearServerErrors();
    Object.keys(errors).forEach(function (field) {
      var m = /indicators\.(\d+)/.exec(field) || /prerequisites\.(P\d+)/.exec(field) || /records\.(\w+)/.exec(field);
      var fs = m ? document.getElementById((m[1][0] === "P" ? "pre-" : "ind-") + m[1]) : null;
      var p = document.createElement("p");
      p.className = "field-error";
      p.dataset.serverError = "1";
      p.setAttribute("role", "alert");
      p.textContent = [].concat(errors[field]).join("；");
      (fs || form).appendChild(p);
    });
  }

  function changed(event) {
    if (event && event.target && event.target.classList.contains("evidence-file")) return;
    if (event && event.target && event.target.classList.contains("state")) {
      var fs = event.target.closest("fieldset.indicator");
      showDetails(fs);
      var findings = fs.querySelector("input.findings");
      if (event.target.value === "assessed" && findings && findings.value === "") findings.value = "0";
    }
    if (event && event.target === variantSelect) showVariant();
    updateMenu();
    if (!editable) return;
    dirty = true;
    writeLocal(collect(), false);
    setSaveStatus("有未保存的修改");
    autosave();
    evaluateSoon();
  }

  fill(serverDraft);
  updateMenu();
  lastSaved = canonical(collect());
  if (editable) {
    var local = readLocal();
    if (local && !local.synced && local.content && canonical(local.content) !== lastSaved) {
      fill(local.content);
      updateMenu();
      var notice = document.getElementById("restore-notice");
      notice.hidden = false;
      notice.innerHTML = "已恢复您 " + new Date(local.saved_at).toLocaleString("zh-CN", {hour12: false, timeZone: "Asia/Shanghai"}) +
        " 在本机填写但尚未保存到服务器的内容，正在保存。 " +
        '<button type="button" class="link" id="discard-local">放弃本机内容，使用服务器上的版本</button>';
      document.getElementById("discard-local").addEventListener("click", function () {
        localStorage.removeItem(storageKey);
        fill(serverDraft);
        updateMenu();
        notice.hidden = true;
        dirty = true;
        save();
        evaluate();
      });
      dirty = true;
      save();
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    window.addEventListener("beforeunload", function (event) {
      if (dirty || saving) { writeLocal(collect(), false); event.preventDefault(); event.returnValue = ""; }
    });
    window.addEventListener("online", function () { dirty = true; save(); });
  } else {
    form.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = true; });
    form.addEventListener("change", function (e) { if (e.target === variantSelect) showVariant(); });
  }
  evaluate();

  window.IntakeAssessment = {flush: flush, collect: collect, evaluate: evaluate};
})();
