/* Shared helpers of the intake pages: JSON API calls with the CSRF header, field errors, session renewal. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setCsrfToken(token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && token) meta.setAttribute("content", token);
  }

  /* fetch a JSON API; resolves {ok, status, data, network} and never rejects */
  function api(method, url, body) {
    var headers = {"Accept": "application/json", "X-CSRFToken": csrfToken()};
    var payload = body;
    if (body !== undefined && body !== null && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    return fetch(url, {method: method, headers: headers, body: payload, credentials: "same-origin"})
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = {message: text.slice(0, 300)}; }
          return {ok: response.ok, status: response.status, data: data, network: false};
        });
      })
      .catch(function (error) {
        return {ok: false, status: 0, data: {message: "网络连接中断：" + error.message}, network: true};
      });
  }

  /* A 400 CSRF error after signing in again elsewhere: fetch the new session's token and retry once. */
  function apiWithRenewal(method, url, body) {
    return api(method, url, body).then(function (result) {
      if (result.status === 400 && result.data && result.data.errors && result.data.errors.csrf) {
        return renewSession().then(function (renewed) {
          return renewed ? api(method, url, body) : result;
        });
      }
      return result;
    });
  }

  function renewSession() {
    return fetch("/intake/session", {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.csrf_token) { setCsrfToken(data.csrf_token); return true; } return false; })
      .catch(function () { return false; });
  }

  function loginLink() {
    var next = encodeURIComponent(location.pathname + location.search);
    return '<a href="/login?reason=expired&amp;next=' + next + '" target="_blank" rel="noopener">在新标签页中重新登录</a>';
  }

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  /* errors: {field: [messages]} → each [data-error-for=field] element, plus a summary list. */
  function showFieldErrors(root, errors, summary, message) {
    clearFieldErrors(root, summary);
    var items = [];
    Object.keys(errors || {}).forEach(function (field) {
      var messages = [].concat(errors[field]);
      var target = root.querySelector('[data-error-for="' + cssEscape(field) + '"]');
      var input = root.querySelector('[name="' + cssEscape(field) + '"]');
      if (!target) {
        var parent = field;
        while (!target && parent.indexOf(".") > 0) {
          parent = parent.slice(0, parent.lastIndexOf("."));
          target = root.querySelector('[data-error-for="' + cssEscape(parent) + '"]');
        }
      }
      if (target) {
        target.hidden = false;
        target.textContent = messages.join("；");
      }
      if (input) input.setAttribute("aria-invalid", "true");
      var id = input ? input.id : (target ? target.id : "");
      items.push('<li>' + (id ? '<a href="#' + id + '">' : "") + escapeHtml(messages.join("；")) + (id ? "</a>" : "") + "</li>");
    });
    if (summary) {
      summary.hidden = false;
      summary.innerHTML = "<p><strong>" + escapeHtml(message || "提交的数据有误，请按提示修改") + "</strong></p>" +
        (items.length ? "<ul>" + items.join("") + "</ul>" : "");
      summary.focus();
    }
  }

  function clearFieldErrors(root, summary) {
    root.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    root.querySelectorAll('[aria-invalid="true"]').forEach(function (el) { el.removeAttribute("aria-invalid"); });
    if (summary) { summary.hidden = true; summary.innerHTML = ""; }
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\\[\]\.]/g, "\\$&");
  }

  function debounce(fn, ms) {
    var timer = null;
    var wrapped = function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { timer = null; fn.apply(null, args); }, ms);
    };
    wrapped.flush = function () { if (timer) { clearTimeout(timer); timer = null; fn(); } };
    wrapped.cancel = function () { clearTimeout(timer); timer = null; };
    return wrapped;
  }

  function formatSize(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
    return bytes + " 字节";
  }

  /* Upload one file as multipart (kind, indicator, file); resolves the API result. */
  function upload(appId, kind, indicator, file) {
    var data = new FormData();
    data.append("kind", kind);
    if (indicator) data.append("indicator", indicator);
    data.append("file", file, file.name);
    return apiWithRenewal("POST", "/api/v1/applications/" + encodeURIComponent(appId) + "/attachments", data);
  }

  function errorText(result) {
    if (result.status === 401) return "登录已过期。";
    var data = result.data || {};
    var parts = [];
    if (data.errors) {
      Object.keys(data.errors).forEach(function (k) { parts = parts.concat(data.errors[k]); });
    }
    if (result.status === 413) return data.message || "文件过大";
    return parts.length ? parts.join("；") : (data.message || ("出错了（" + result.status + "）"));
  }

  /* Submit an application: shows the list of what is missing (links to the fields) or goes to the case page.
     `shownList`: a list on the page that already names some problems ([data-field] items); those are counted and
     pointed to instead of being repeated. */
  function submitApplication(appId, box, before, shownList) {
    box.hidden = false;
    box.innerHTML = "<p>正在提交……</p>";
    return Promise.resolve(before ? before() : null).then(function () {
      return apiWithRenewal("POST", "/api/v1/applications/" + encodeURIComponent(appId) + "/submit");
    }).then(function (result) {
      if (result.ok) {
        box.innerHTML = "<p>已提交。正在打开申报进度……</p>";
        location.href = "/intake/applications/" + encodeURIComponent(appId) + "?submitted=1";
        return result;
      }
      var data = result.data || {};
      var html = "<p><strong>" + escapeHtml(result.status === 401 ? "登录已过期，填写的内容都已保存。" : (data.message || "提交失败")) + "</strong></p>";
      if (result.status === 401) html += "<p>" + loginLink() + "，登录后再点“提交申报”。</p>";
      if (data.errors) {
        var shown = {};
        if (shownList) {
          shownList.querySelectorAll("[data-field]").forEach(function (li) { shown[li.dataset.field] = true; });
        }
        var listed = 0;
        var items = "";
        Object.keys(data.errors).forEach(function (field) {
          [].concat(data.errors[field]).forEach(function (message) {
            if (shown[field]) { listed += 1; return; }
            items += "<li>" + problemLink(appId, field, message) + "</li>";
          });
        });
        if (listed) {
          html += '<p>上方<a href="#' + shownList.id + '">“提交前还需要”清单</a>中的 ' + listed + " 项尚未完成。</p>";
        }
        if (items) html += (listed ? "<p>此外：</p>" : "") + '<ul class="problems">' + items + "</ul>";
      }
      box.innerHTML = html;
      box.focus();
      return result;
    });
  }

  function problemLink(appId, field, message) {
    var href = null;
    var m = /^assessment\.(?:indicators\.)?(\d+)/.exec(field) || /^indicators\.(\d+)/.exec(field);
    var p = /prerequisites\.(P\d+)/.exec(field);
    if (m) href = "/intake/applications/" + appId + "/form#ind-" + m[1];
    else if (p) href = "/intake/applications/" + appId + "/form#pre-" + p[1];
    else if (/^materials\./.test(field)) href = "/intake/applications/" + appId + "/materials#kind-" + field.slice(10);
    else if (field === "declared_penalties") href = "/intake/applications/" + appId + "/materials#penalties";
    else if (/^(mine|assessment\.mine)/.test(field)) href = null;
    return href ? '<a href="' + href + '">' + escapeHtml(message) + "</a>" : escapeHtml(message);
  }

  window.Intake = {
    api: api, apiWithRenewal: apiWithRenewal, renewSession: renewSession, csrfToken: csrfToken,
    loginLink: loginLink, escapeHtml: escapeHtml, showFieldErrors: showFieldErrors,
    clearFieldErrors: clearFieldErrors, debounce: debounce, formatSize: formatSize, upload: upload,
    errorText: errorText, submitApplication: submitApplication, problemLink: problemLink
  };
})();
