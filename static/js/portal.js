// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Search-as-you-type: the top articles under a search field.
  document.querySelectorAll("[data-suggest]").forEach(function (box) {
    var input = box.querySelector("input");
    var list = box.querySelector(".suggest-list");
    var endpoint = box.getAttribute("data-suggest");
    var timer = null, sequence = 0, active = -1;

    function close() { list.hidden = true; list.innerHTML = ""; active = -1; }

    function show(results) {
      list.innerHTML = "";
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = list.id + "-" + i;
        var a = document.createElement("a");
        a.href = r.url;
        a.textContent = r.title;
        var small = document.createElement("small");
        small.textContent = r.snippet;
        a.appendChild(small);
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      active = -1;
    }

    function fetchSuggestions() {
      var q = input.value;
      if (q.trim().length < 2) { close(); return; }
      var mine = ++sequence;
      fetch(endpoint + "?limit=5&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === sequence) { show(data.results || []); } })
        .catch(function () { /* suggestions are optional */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 200);
    });
    input.addEventListener("keydown", function (e) {
      var items = list.querySelectorAll("li");
      if (list.hidden || !items.length) { return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach(function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
        input.setAttribute("aria-activedescendant", items[active].id);
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        window.location.href = items[active].querySelector("a").href;
      } else if (e.key === "Escape") {
        close();
      }
    });
    document.addEventListener("click", function (e) { if (!box.contains(e.target)) { close(); } });
  });
})();

// The header menu folds behind a button on narrow screens.
(function () {
  "use strict";
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("header-menu");
  if (!toggle || !menu) { return; }
  toggle.addEventListener("click", function () {
    var open = !menu.classList.contains("open");
    menu.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// Filters fold away on phones unless some are in use.
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 600px)").matches) { return; }
  document.querySelectorAll("details[data-fold-narrow]:not([data-keep-open])").forEach(function (box) {
    box.open = false;
  });
})();

// A table wider than the screen scrolls sideways: it can then be reached and scrolled by keyboard.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();
