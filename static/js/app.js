// Progressive enhancement only: every link and form works without this file.
(function () {
  "use strict";
  // After htmx fills the side panel, move keyboard focus into it so screen readers announce it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "side-panel") {
      target.focus();
    }
  });
  // Escape closes the side panel by following its close link (a real URL).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var close = document.querySelector("#side-panel .panel-close");
    if (close) close.click();
  });
})();
