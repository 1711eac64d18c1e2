/* "What we read in it" next to each inline citation (articles/citation_notes.py). The buttons
   and notes are sent hidden: without JavaScript a citation is its link to the reference list,
   which lists the same passages. With it, each button opens and closes its note; Escape inside
   a note closes it and puts focus back on its button. */
(function () {
  "use strict";
  function toggle(button, open) {
    var note = document.getElementById(button.getAttribute("aria-controls"));
    if (!note) { return; }
    button.setAttribute("aria-expanded", open ? "true" : "false");
    note.hidden = !open;
  }
  document.querySelectorAll("button.cite-note-toggle[aria-controls]").forEach(function (button) {
    var note = document.getElementById(button.getAttribute("aria-controls"));
    if (!note) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      toggle(button, button.getAttribute("aria-expanded") !== "true");
    });
    function closeOnEscape(event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        event.preventDefault();
        toggle(button, false);
        button.focus();
      }
    }
    button.addEventListener("keydown", closeOnEscape);
    note.addEventListener("keydown", closeOnEscape);
  });
})();
