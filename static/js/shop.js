// Search suggestions as you type. The form still works without JavaScript.
(function () {
  "use strict";
  var form = document.querySelector("form.search[data-suggest-url]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var list = form.querySelector(".suggestions");
  var url = form.getAttribute("data-suggest-url");
  var timer = null, active = -1, lastQuery = "", controller = null;

  function close() {
    list.hidden = true; list.innerHTML = ""; active = -1;
    input.setAttribute("aria-expanded", "false");
  }
  function highlight(index) {
    var items = list.querySelectorAll("li");
    items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
  }
  function render(results) {
    list.innerHTML = "";
    if (!results.length) { close(); return; }
    results.forEach(function (r, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option"); li.id = "suggestion-" + i;
      var a = document.createElement("a"); a.href = r.url;
      var name = document.createElement("span"); name.textContent = r.flag + " " + r.name;
      var meta = document.createElement("span"); meta.className = "muted small";
      meta.textContent = r.kind + (r.from ? " · from " + r.from : "");
      a.appendChild(name); a.appendChild(meta); li.appendChild(a); list.appendChild(li);
    });
    list.hidden = false; input.setAttribute("aria-expanded", "true");
  }
  function fetchSuggestions() {
    var q = input.value.trim();
    if (q.length < 2) { close(); return; }
    if (q === lastQuery) return;
    lastQuery = q;
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(url + "?q=" + encodeURIComponent(q), { signal: controller.signal, headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (input.value.trim() === q) render(data.results); })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    clearTimeout(timer); timer = setTimeout(fetchSuggestions, 120);
  });
  input.addEventListener("keydown", function (e) {
    var items = list.querySelectorAll("li");
    if (e.key === "ArrowDown" && items.length) { e.preventDefault(); highlight((active + 1) % items.length); }
    else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); highlight((active - 1 + items.length) % items.length); }
    else if (e.key === "Enter" && active >= 0 && items[active]) { e.preventDefault(); window.location = items[active].querySelector("a").href; }
    else if (e.key === "Escape") { close(); }
  });
  document.addEventListener("click", function (e) { if (!form.contains(e.target)) close(); });
})();
