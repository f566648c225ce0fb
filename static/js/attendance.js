/* Attendance sheet: "Mark all present" fills the sheet at once, without a round trip.
   Without JavaScript the same button asks the server for a filled-in (unsaved) sheet. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-fill-all]");
    if (!button) return;
    var form = button.closest("[data-attendance-sheet]");
    if (!form) return;
    event.preventDefault();
    var value = button.getAttribute("data-fill-all");
    form.querySelectorAll('input[type="radio"][value="' + value + '"]').forEach(function (radio) {
      radio.checked = true;
    });
    var first = form.querySelector('input[type="radio"][value="' + value + '"]');
    if (first) first.focus();
  });
})();
