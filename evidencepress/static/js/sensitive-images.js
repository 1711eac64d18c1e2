/* Blur images marked sensitive until the reader chooses to see them. Without JavaScript the
   images are shown as normal, with their caption. */
(function () {
  "use strict";
  document.querySelectorAll("[data-sensitive]").forEach(function (figure) {
    var button = figure.querySelector("[data-reveal]");
    if (!button) { return; }
    figure.classList.add("is-blurred");
    button.hidden = false;
    button.addEventListener("click", function () {
      figure.classList.remove("is-blurred");
      button.hidden = true;
      var image = figure.querySelector("img");
      if (image) { image.setAttribute("tabindex", "-1"); image.focus(); }
    });
  });
})();
