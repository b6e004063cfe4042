// The ticket page: new messages appear without a reload (polling), the reply box gets a
// Markdown preview, saved replies and knowledge-base links. Everything works without it.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var thread = document.querySelector("[data-thread]");
  var POLL_MS = 4000;

  if (thread) {
    var last = parseInt(thread.getAttribute("data-last"), 10) || 0;
    var url = thread.getAttribute("data-updates");
    var statusEl = document.querySelector("[data-ticket-status]");
    var busy = false;
    var poll = function () {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url + "?after=" + last, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          data.html.forEach(function (html) {
            var holder = document.createElement("ol");
            holder.innerHTML = html; // rendered and sanitised by the server
            var item = holder.firstElementChild;
            if (item && !document.getElementById(item.id)) { thread.appendChild(item); }
          });
          last = data.last;
          if (statusEl && data.status_label && statusEl.textContent !== data.status_label && !statusEl.dataset.staff) {
            statusEl.textContent = data.status_label;
          }
        })
        .catch(function () { /* try again on the next tick */ })
        .then(function () { busy = false; });
    };
    setInterval(poll, POLL_MS);
  }

  var form = document.querySelector("[data-reply-form]");
  if (!form) { return; }
  var textarea = form.querySelector("textarea[data-markdown-source]");
  var preview = form.querySelector("[data-markdown-preview]");
  var toggle = form.querySelector("[data-preview-toggle]");

  function insert(text) {
    var start = textarea.selectionStart || textarea.value.length;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(textarea.selectionEnd || start);
    textarea.focus();
  }

  if (toggle && textarea && preview) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      if (!preview.hidden) { preview.hidden = true; textarea.hidden = false; return; }
      fetch("/api/markdown", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ text: textarea.value })
      }).then(function (r) { return r.json(); }).then(function (data) {
        preview.innerHTML = data.html || ""; // sanitised by the server (nh3)
        preview.hidden = false;
        textarea.hidden = true;
      });
    });
  }

  var canned = form.querySelector("[data-canned]");
  if (canned) {
    canned.addEventListener("change", function () {
      if (!canned.value) { return; }
      var u = canned.getAttribute("data-canned-url").replace(/\/0$/, "/" + canned.value);
      fetch(u + "?ticket=" + encodeURIComponent(canned.getAttribute("data-ticket")))
        .then(function (r) { return r.json(); })
        .then(function (data) { insert(data.text || ""); canned.value = ""; });
    });
  }

  var kb = form.querySelector("[data-kb-search]");
  var results = form.querySelector("[data-kb-results]");
  if (kb && results) {
    var timer = null, seq = 0;
    kb.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = kb.value.trim();
        if (q.length < 2) { results.hidden = true; return; }
        var mine = ++seq;
        fetch("/api/suggest?limit=6&q=" + encodeURIComponent(q))
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (mine !== seq) { return; }
            results.innerHTML = "";
            (data.results || []).forEach(function (r) {
              var li = document.createElement("li");
              var b = document.createElement("button");
              b.type = "button"; b.className = "link-button"; b.textContent = r.title + " [" + r.lang + "]";
              b.addEventListener("click", function () {
                insert("[" + r.title + "](" + window.location.origin + r.url + ")");
                results.hidden = true; kb.value = "";
              });
              li.appendChild(b); results.appendChild(li);
            });
            results.hidden = !(data.results || []).length;
          });
      }, 250);
    });
  }
})();
