// Client-side check of the email field before the trip to Spotify; the server checks again.
(function () {
  var form = document.querySelector("form.signup");
  if (!form) { return; }
  var input = form.querySelector("input[type=email]");
  var error = document.getElementById("email-error");
  function show(message) {
    error.textContent = message;
    error.hidden = !message;
    if (message) { input.setAttribute("aria-invalid", "true"); }
    else { input.removeAttribute("aria-invalid"); }
  }
  form.addEventListener("submit", function (event) {
    var value = input.value.trim();
    if (!value) { show("Please enter your email address."); }
    else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
      show("That does not look like an email address (it needs an @ and a domain).");
    } else { show(""); return; }
    event.preventDefault();
    input.focus();
  });
  input.addEventListener("input", function () { if (!error.hidden) { show(""); } });
})();
