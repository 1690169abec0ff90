// The order page follows its order until the eSIM is ready (a static file: the
// Content-Security-Policy allows no inline script). The status URL holds no ?t= token: the
// order link's first visit moved it into the session.
(function () {
  var box = document.getElementById("order-live");
  var pending = ["paid", "fulfilling", "pending_payment"];
  if (!box || pending.indexOf(box.dataset.status) < 0) return;
  if (box.dataset.status === "pending_payment" && location.search.indexOf("session_id=") < 0) return;
  var url = box.dataset.statusUrl + (location.search.indexOf("session_id=") >= 0 ? "?" + location.search.slice(1).split("&").filter(function (p) { return p.indexOf("session_id=") === 0; })[0] : "");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.status !== box.dataset.status) { location.reload(); return; }
        if (tries < 150) setTimeout(poll, tries < 30 ? 2000 : 5000);
      })
      .catch(function () { if (tries < 150) setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1500);
})();
