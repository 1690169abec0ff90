// The receipt's print button (a static file: the Content-Security-Policy allows no inline script).
(function () {
  var button = document.getElementById("print-receipt");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
