// Usage that is true when shown: figures older than the usage cache's age are asked for again in the
// background (accounts.views.esim_usage queues one refresh from the network) and put in place when
// they come, with no reload; "Read from the network … ago" stays true while the page is open.
// Progressive enhancement: without JavaScript the page shows the figures it had, and how old they are.

// Strings in the page's language from Django's JavaScript catalog (loaded before shop.js); English else.
(function () {
  "use strict";
  var gettext = window.gettext || function (msgid) { return msgid; };
  var ngettext = window.ngettext || function (singular, plural, n) { return n === 1 ? singular : plural; };
  var interpolate = window.interpolate || function (fmt, obj) {
    return fmt.replace(/%\(\w+\)s/g, function (match) { return String(obj[match.slice(2, -2)]); });
  };

  // The same sentences as esims.usage.read_ago.
  function readAgo(iso) {
    var when = Date.parse(iso);
    if (isNaN(when)) return null;
    var minutes = Math.floor(Math.max(0, Date.now() - when) / 60000);
    if (minutes < 1) return gettext("Read from the network just now");
    if (minutes < 60) {
      return interpolate(ngettext("Read from the network %(count)s min ago",
        "Read from the network %(count)s min ago", minutes), { count: minutes }, true);
    }
    var hours = Math.floor(minutes / 60);
    if (hours < 24) {
      return interpolate(ngettext("Read from the network %(count)s hour ago",
        "Read from the network %(count)s hours ago", hours), { count: hours }, true);
    }
    var days = Math.floor(hours / 24);
    return interpolate(ngettext("Read from the network %(count)s day ago",
      "Read from the network %(count)s days ago", days), { count: days }, true);
  }

  function tickAges() {
    document.querySelectorAll("[data-read-at]").forEach(function (el) {
      var text = readAgo(el.getAttribute("data-read-at"));
      if (text && el.textContent !== text) el.textContent = text;
    });
  }

  // A few seconds apart at first (a refresh takes a second or two), then slower; given up after
  // about three minutes (the network may not answer): the Refresh button is still there.
  var DELAYS = [2000, 3000, 5000, 5000, 10000, 10000, 15000, 15000, 15000, 30000, 30000, 30000];

  function watch(box) {
    var url = box.getAttribute("data-usage-url");
    var attempt = 0;
    function shownReadAt() {
      var el = box.querySelector("[data-read-at]");
      return el ? el.getAttribute("data-read-at") : null;
    }
    function next(delay) {
      if (attempt >= DELAYS.length) return;
      window.setTimeout(ask, delay || DELAYS[attempt]);
      attempt += 1;
    }
    function ask() {
      if (document.hidden) { next(); return; }  // a tab in the background asks once it is seen
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 429) { next(30000); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data) return;
          if (data.html && data.read_at && data.read_at !== box.getAttribute("data-shown-read-at")) {
            box.innerHTML = data.html;
            box.setAttribute("data-shown-read-at", data.read_at);
            tickAges();
          }
          if (data.current) box.removeAttribute("data-usage-url");
          else next();
        })
        .catch(function () { next(); });
    }
    box.setAttribute("data-shown-read-at", shownReadAt() || "");
    next();
  }

  document.querySelectorAll("[data-usage-url]").forEach(watch);
  tickAges();
  window.setInterval(tickAges, 30000);
})();
