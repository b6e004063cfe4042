// The article editor: the preview follows the Markdown as it is typed (rendered and
// sanitised by the server, the same way the published article is).
(function () {
  "use strict";
  var source = document.querySelector("textarea[data-markdown-source]");
  var preview = document.querySelector("[data-markdown-preview]");
  if (!source || !preview) { return; }
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var timer = null, seq = 0;
  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch("/api/markdown", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ text: source.value })
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (mine === seq && data.html !== undefined) { preview.innerHTML = data.html; }
      });
    }, 300);
  });
})();
