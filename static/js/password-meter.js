/* Password strength meter for "new password" fields: a hint only; the server's password rules decide.
   Markup: templates/account/snippets/password_meter.html (data-password-meter="<input id>"). */
(function () {
  "use strict";

  function score(password) {
    if (password.length === 0) return -1;
    if (password.length < 12) return 0;
    if (/^\d+$/.test(password)) return 0;
    var classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter(function (re) { return re.test(password); }).length;
    var unique = new Set(password.toLowerCase()).size;
    if (unique < 6) return 1;
    var words = password.trim().split(/\s+/).length;
    var points = 1;
    if (password.length >= 16) points += 1;
    if (password.length >= 20 || words >= 4) points += 1;
    if (classes >= 3 || words >= 3) points += 1;
    return Math.min(points, 4);
  }

  var LABELS = [
    "Too short: use at least 12 characters.",
    "Strength: weak. Add more words or characters.",
    "Strength: fair.",
    "Strength: good.",
    "Strength: strong.",
  ];

  function attach(meter) {
    var input = document.getElementById(meter.getAttribute("data-password-meter"));
    if (!input) return;
    var bar = meter.querySelector("meter");
    var text = meter.querySelector("p");
    var update = function () {
      var s = score(input.value);
      meter.hidden = s < 0;
      if (s < 0) return;
      bar.value = s;
      text.textContent = LABELS[s];
    };
    input.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("[data-password-meter]").forEach(attach);
})();
