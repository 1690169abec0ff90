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

  // While the figures are old: asked again a few seconds apart at first (a refresh from the network
  // takes a second or two), then slower, and given up after about three minutes (the network may not
  // answer; the Refresh button is still there). While they are current: asked again once they age
  // past the usage cache's age, which the server says in seconds (no clock of the phone's involved).
  var DELAYS = [2000, 3000, 5000, 5000, 10000, 10000, 15000, 15000, 15000, 30000, 30000, 30000];

  function watch(box) {
    var url = box.getAttribute("data-usage-url");
    var stamp = box.querySelector("[data-read-at]");
    var shown = stamp ? stamp.getAttribute("data-read-at") : null;  // when the figures on show were read
    var attempt = 0;
    function later(ms) { window.setTimeout(ask, ms); }
    function retry(ms) {
      if (attempt >= DELAYS.length) return;
      later(ms || DELAYS[attempt]);
      attempt += 1;
    }
    function ask() {
      if (document.hidden) {  // a tab in the background asks once it is seen again
        document.addEventListener("visibilitychange", ask, { once: true });
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 429) { retry(30000); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data) return;
          if (data.html && data.read_at && data.read_at !== shown) {
            box.innerHTML = data.html;  // the server's own rendering of the figures (same origin)
            shown = data.read_at;
            tickAges();
          }
          if (data.current) { attempt = 0; later(Math.max(1, data.current_for) * 1000 + 500); }
          else retry();
        })
        .catch(function () { retry(); });
    }
    var currentFor = parseInt(box.getAttribute("data-usage-current-for"), 10) || 0;
    if (currentFor > 0) later(currentFor * 1000 + 500);
    else retry(DELAYS[0]);
  }

  document.querySelectorAll("[data-usage-url]").forEach(watch);
  tickAges();
  window.setInterval(tickAges, 30000);
})();
