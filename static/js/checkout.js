// The checkout form's errors at their field, in view on a phone: a missing or malformed email is
// said at the field before the form is sent (no round trip, no error below the fold), and an error
// the server found is brought into view with its field focused. Progressive enhancement: without
// JavaScript the server says the same at the field, and `autofocus` brings it into view.
(function () {
  "use strict";
  var gettext = window.gettext || function (msgid) { return msgid; };
  var form = document.getElementById("checkout");
  if (!form) return;

  function show(input) {
    // The label, the field and its error together, mid-screen above the phone's keyboard.
    var box = input.parentNode || input;
    box.scrollIntoView({ block: "center" });
    input.focus({ preventScroll: true });
  }

  function sayAtField(input, message) {
    var id = input.getAttribute("data-error-id");
    var error = document.getElementById(id);
    if (!error) {
      error = document.createElement("p");
      error.id = id;
      error.className = "form-error";
      input.insertAdjacentElement("beforebegin", error);  // as the server places it
    }
    error.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
  }

  function clearAtField(input) {
    var error = document.getElementById(input.getAttribute("data-error-id"));
    if (error) error.remove();
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }

  var email = form.querySelector("input[name=email]");
  form.addEventListener("submit", function (event) {
    if (!email) return;
    var message = "";
    // The same words as the server's (checkout.forms.CheckoutForm); it checks the rest.
    if (email.validity.valueMissing || !email.value.trim()) message = gettext("Please enter your email address.");
    else if (email.validity.typeMismatch) message = gettext("Enter a valid email address.");
    if (!message) return;
    event.preventDefault();
    sayAtField(email, message);
    show(email);
  });
  if (email) {
    email.addEventListener("input", function () {
      if (email.getAttribute("aria-invalid") === "true" && email.validity.valid && email.value.trim()) {
        clearAtField(email);
      }
    });
  }

  var invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) show(invalid);
})();
