// Progressive enhancement only: every form here also works without JavaScript.

// Strings in the page's language: gettext, ngettext and interpolate come from Django's JavaScript
// catalog (core/javascript_catalog.py, loaded just before this file). Should it fail to load, English.
var gettext = window.gettext || function (msgid) { return msgid; };
var ngettext = window.ngettext || function (singular, plural, n) { return n === 1 ? singular : plural; };
var interpolate = window.interpolate || function (fmt, obj) {
  return fmt.replace(/%\(\w+\)s/g, function (match) { return String(obj[match.slice(2, -2)]); });
};

// Search suggestions as you type: an ARIA 1.2 combobox (input + listbox of options).
(function () {
  "use strict";
  var form = document.querySelector("form.search[data-suggest-url]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var list = form.querySelector(".suggestions");
  var status = form.querySelector("[data-suggest-status]");
  var url = form.getAttribute("data-suggest-url");
  var timer = null, active = -1, lastQuery = "", controller = null;

  function options() { return list.querySelectorAll("[role=option]"); }
  function close() {
    list.hidden = true; list.innerHTML = ""; active = -1; lastQuery = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function highlight(index) {
    options().forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (index >= 0) input.setAttribute("aria-activedescendant", "suggestion-" + index);
    else input.removeAttribute("aria-activedescendant");
  }
  function render(data) {
    var results = data.results;
    list.innerHTML = "";
    if (!results.length) { close(); if (status) status.textContent = gettext("No matches"); return; }
    results.forEach(function (r, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option"); li.id = "suggestion-" + i;
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-url", r.url);
      var name = document.createElement("span"); name.textContent = r.flag + " " + r.name;
      var meta = document.createElement("span"); meta.className = "suggestion-meta";
      // Translators: a search suggestion's second line, e.g. "Country · from $4.50".
      meta.textContent = r.from ? interpolate(gettext("%(kind)s · from %(price)s"), { kind: r.kind, price: r.from }, true) : r.kind;
      li.appendChild(name); li.appendChild(meta);
      li.addEventListener("click", function () { window.location = r.url; });
      list.appendChild(li);
    });
    list.hidden = false; input.setAttribute("aria-expanded", "true");
    if (status) {
      var n = results.length;
      status.textContent = interpolate(data.how === "multi"
        ? ngettext("%(count)s plan covers these countries", "%(count)s plans cover these countries", n)
        : ngettext("%(count)s suggestion", "%(count)s suggestions", n), { count: n }, true);
    }
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
      .then(function (data) { if (input.value.trim() === q) { active = -1; render(data); list.setAttribute("data-query", q); } })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    clearTimeout(timer); timer = setTimeout(fetchSuggestions, 120);
  });
  input.addEventListener("keydown", function (e) {
    var items = options();
    if (e.key === "ArrowDown" && items.length) { e.preventDefault(); highlight((active + 1) % items.length); }
    else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); highlight((active - 1 + items.length) % items.length); }
    else if (e.key === "Enter" && active >= 0 && items[active]) { e.preventDefault(); window.location = items[active].getAttribute("data-url"); }
    else if (e.key === "Escape") { close(); }
  });
  document.addEventListener("click", function (e) { if (!form.contains(e.target)) close(); });
})();

// Trip planner: choosing days or data updates the pick and the list in place. The page
// itself (cached for anonymous visitors) is fetched and its parts swapped in, so the
// recommendation is computed in one place, on the server.
(function () {
  "use strict";
  var form = document.querySelector("form[data-planner]");
  if (!form || !window.fetch || !window.DOMParser) return;
  var usage = form.querySelector("[data-usage]");
  var submit = form.querySelector(".planner-actions");
  var controller = null;

  function syncUsage() {
    var unsure = form.querySelector("input[name=data][value=unsure]:checked");
    if (usage) usage.hidden = !unsure;
    if (unsure && !form.querySelector("input[name=use]:checked")) {
      var medium = form.querySelector("input[name=use][value=medium]");
      if (medium) medium.checked = true;
    }
  }
  function swap(doc, id) {
    var fresh = doc.getElementById(id), old = document.getElementById(id);
    if (old && fresh) old.replaceWith(fresh);
    else if (old && !fresh) old.remove();
  }
  function update() {
    syncUsage();
    var params = new URLSearchParams(new FormData(form));
    if (!params.get("data") || params.get("data") !== "unsure") params.delete("use");
    var target = form.getAttribute("action").split("#")[0] + "?" + params.toString();
    if (controller) controller.abort();
    controller = new AbortController();
    document.body.setAttribute("aria-busy", "true");
    fetch(target, { signal: controller.signal })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["planner-result", "plan-list", "region-offers"].forEach(function (id) { swap(doc, id); });
        history.replaceState(null, "", target);
        document.body.removeAttribute("aria-busy");
        var pick = document.querySelector("#planner-result .pick, #planner-result .answer");
        if (pick && pick.getBoundingClientRect().top > window.innerHeight) {
          pick.scrollIntoView({ block: "nearest" });
        }
      })
      .catch(function () { document.body.removeAttribute("aria-busy"); });
  }
  if (submit) submit.hidden = true;
  syncUsage();
  form.addEventListener("change", update);
})();

// Install help: show the steps for the visitor's own phone first.
(function () {
  "use strict";
  var box = document.querySelector("[data-install-steps]");
  if (!box) return;
  var ua = navigator.userAgent || "";
  var first = /iPhone|iPad|iPod/.test(ua) ? "ios" : /Android/.test(ua) ? "android" : null;
  var own = first && box.querySelector("[data-platform=" + first + "]");
  if (own && own !== box.querySelector("[data-platform]")) {
    own.parentNode.insertBefore(own, box.querySelector("[data-platform]"));
  }
  if (own) own.open = true;
})();

// Copy buttons for the eSIM's codes (SM-DP+ address, activation code): shown only where the page's
// script runs; "Copied" on the button and said by the live region beside them.
(function () {
  var buttons = document.querySelectorAll(".copy-button[data-copy]");
  if (!buttons.length) return;
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    area.setSelectionRange(0, text.length); // iOS Safari selects nothing without it
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallback(text); });
    }
    return fallback(text);
  }
  Array.prototype.forEach.call(buttons, function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var status = button.closest("details, section, body").querySelector(".copy-status");
      copy(button.dataset.copy).then(function () {
        button.textContent = gettext("Copied");
        if (status) status.textContent = gettext("Copied");
      }, function () {
        if (status) status.textContent = gettext("Couldn't copy: select the text and copy it instead.");
      });
      setTimeout(function () { button.textContent = label; if (status) status.textContent = ""; }, 3000);
    });
  });
})();
