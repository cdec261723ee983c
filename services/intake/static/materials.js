/* The materials checklist: uploads per kind, the penalty declaration, what is missing, submit. */
(function () {
  "use strict";
  var page = document.getElementById("materials-page");
  if (!page || page.dataset.editable !== "1") return;
  var appId = page.dataset.appId;
  var base = "/api/v1/applications/" + encodeURIComponent(appId);

  function refresh() {
    return Intake.api("GET", base).then(function (result) {
      if (!result.ok) return;
      var app = result.data;
      app.materials.forEach(function (e) {
        var cell = document.querySelector("#kind-" + e.kind + " .status-cell");
        if (!cell) return;
        cell.innerHTML = e.status === "present" ? '<span class="badge ok">已上传</span>'
          : e.status === "missing" ? '<span class="badge bad">缺少</span>'
          : e.requirement === "conditional" ? '<span class="badge">无需提交（未申报行政处罚）</span>'
          : '<span class="badge">选交</span>';
      });
      var box = document.getElementById("missing-box");
      if (app.missing.length) {
        box.innerHTML = '<p id="missing-head">提交前还需要（' + app.missing.length + "项）：</p>" +
          '<ul class="problems" id="missing-list">' + app.missing.map(function (p) {
          return '<li data-field="' + Intake.escapeHtml(p.field) + '">' + Intake.problemLink(appId, p.field, p.message) + "</li>";
        }).join("") + "</ul>";
      } else {
        box.innerHTML = '<p id="missing-none">材料与声明已齐全。提交时还将由评分服务核算自评估。</p>';
      }
    });
  }

  page.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name === "declared_penalties") {
      var status = document.getElementById("penalties-status");
      status.textContent = "正在保存……";
      Intake.apiWithRenewal("PUT", base, {declared_penalties: input.value === "true"}).then(function (result) {
        status.innerHTML = result.ok ? "已保存" : Intake.escapeHtml(Intake.errorText(result)) +
          (result.status === 401 ? "。" + Intake.loginLink() : "");
        refresh();
      });
      return;
    }
    if (!input.classList.contains("material-file")) return;
    var kind = input.dataset.kind;
    var list = document.querySelector('[data-files-for="' + kind + '"]');
    var error = document.querySelector('[data-upload-error-for="' + kind + '"]');
    error.hidden = true;
    var chain = Promise.resolve();
    Array.prototype.slice.call(input.files).forEach(function (file) {
      chain = chain.then(function () {
        return Intake.upload(appId, kind, null, file).then(function (result) {
          if (result.ok) {
            var li = document.createElement("li");
            li.dataset.attachment = result.data.id;
            li.innerHTML = '<a href="' + result.data.download_url + '">' + Intake.escapeHtml(result.data.filename) +
              '</a> <button type="button" class="link remove-file" data-attachment="' + result.data.id +
              '" aria-label="删除 ' + Intake.escapeHtml(result.data.filename) + '">删除</button>';
            list.appendChild(li);
            return;
          }
          error.hidden = false;
          error.innerHTML = Intake.escapeHtml(file.name + "：" + Intake.errorText(result)) +
            (result.status === 401 ? "。" + Intake.loginLink() : "");
        });
      });
    });
    chain.then(function () { input.value = ""; return refresh(); });
  });

  page.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-file");
    if (button) {
      Intake.apiWithRenewal("DELETE", base + "/attachments/" + encodeURIComponent(button.dataset.attachment))
        .then(function (result) {
          if (result.ok) { var li = button.closest("li"); li.parentNode.removeChild(li); refresh(); }
        });
      return;
    }
    if (event.target.id === "submit-application") {
      event.target.disabled = true;
      // what the checklist above already lists is counted and pointed to, not repeated under the button
      Intake.submitApplication(appId, document.getElementById("submit-result"), null,
                               document.getElementById("missing-list")).then(function (result) {
        if (!result.ok) { event.target.disabled = false; refresh(); }
      });
    }
  });
})();
