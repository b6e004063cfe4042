// The request wizard's side panel: the top articles for what is being typed, opened in
// place, with "This solved my problem" and "Not it". Without JavaScript the panel is
// rendered by the server on every step.
(function () {
  "use strict";
  var panel = document.querySelector("[data-suggest-panel]");
  if (!panel) { return; }
  var sources = document.querySelectorAll("[data-suggest-source]");
  var list = panel.querySelector("[data-suggest-results]");
  var empty = panel.querySelector("[data-suggest-empty]");
  var viewer = panel.querySelector("[data-suggest-article]");
  var eventsUrl = panel.getAttribute("data-draft-events");
  var deflectUrl = panel.getAttribute("data-deflect");
  var articleApi = panel.getAttribute("data-article-api");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var timer = null, sequence = 0, lastQuery = null;
  // "Not it" answers stay out of the panel for the rest of the draft (the server knows
  // them too, from the draft's events, and leaves them out of the list it renders).
  var rejected = (panel.getAttribute("data-rejected") || "").split(",").filter(Boolean);

  function report(kind, slugs) {
    if (!eventsUrl) { return; }
    fetch(eventsUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ kind: kind, slugs: slugs })
    }).catch(function () { /* analytics must never get in the way */ });
  }

  function text() {
    var parts = [];
    sources.forEach(function (el) { parts.push(el.value || ""); });
    return parts.join("\n").trim();
  }

  function titleText() {
    var title = document.querySelector('[data-suggest-source="title"]');
    return title ? title.value : "";
  }

  function deflectForm(slug) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = deflectUrl;
    [["csrf_token", csrf], ["slug", slug], ["title", titleText()]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
      form.appendChild(input);
    });
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "button-small button-ok";
    button.textContent = panel.getAttribute("data-solved-label") || viewer.querySelector("button[type=submit]").textContent;
    form.appendChild(button);
    return form;
  }

  function show(results) {
    list.innerHTML = "";
    results.forEach(function (r) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = r.url; a.textContent = r.title; a.setAttribute("data-slug", r.slug);
      var p = document.createElement("p");
      p.textContent = r.snippet;
      li.appendChild(a); li.appendChild(p); li.appendChild(deflectForm(r.slug));
      list.appendChild(li);
    });
    empty.hidden = results.length > 0;
    if (results.length) { report("suggestions_shown", results.map(function (r) { return r.slug; })); }
  }

  function refresh(force) {
    var q = text();
    if (q === lastQuery && !force) { return; }
    lastQuery = q;
    if (q.length < 3) { return; }
    var mine = ++sequence;
    var url = "/api/suggest?limit=5&q=" + encodeURIComponent(q.slice(0, 2000)) +
      "&exclude=" + encodeURIComponent(rejected.join(","));
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === sequence) { show(data.results || []); } })
      .catch(function () { /* the server-rendered list stays */ });
  }

  function openArticle(slug) {
    fetch(articleApi.replace("SLUG", encodeURIComponent(slug)), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { window.open("/kb/" + slug, "_blank"); return; }
        viewer.querySelector("[data-article-title]").textContent = data.title;
        viewer.querySelector("[data-article-body]").innerHTML = data.html; // sanitised by the server (nh3)
        viewer.querySelector("[data-article-link]").href = data.url;
        viewer.querySelector("[data-deflect-slug]").value = data.slug;
        viewer.querySelector("[data-deflect-title]").value = titleText();
        viewer.hidden = false;
        list.hidden = true;
        viewer.scrollIntoView({ block: "nearest" });
        report("article_opened", [slug]);
      });
  }

  list.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-slug]");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    e.preventDefault();
    openArticle(link.getAttribute("data-slug"));
  });
  viewer.querySelector("[data-not-it]").addEventListener("click", function () {
    var slug = viewer.querySelector("[data-deflect-slug]").value;
    report("not_it", [slug]);
    if (rejected.indexOf(slug) < 0) { rejected.push(slug); }
    var shown = list.querySelector('a[data-slug="' + CSS.escape(slug) + '"]');
    if (shown) { shown.closest("li").remove(); }
    viewer.hidden = true;
    list.hidden = false;
    refresh(true);
  });
  sources.forEach(function (el) {
    el.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  });

  // Warn before uploading files the server would refuse anyway.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      var max = parseInt(input.getAttribute("data-max-bytes"), 10);
      var tooBig = Array.prototype.filter.call(input.files, function (f) { return f.size > max; });
      input.setCustomValidity(tooBig.length ? input.getAttribute("data-too-big") + " " + tooBig.map(function (f) { return f.name; }).join(", ") : "");
      input.reportValidity();
    });
  });
})();
