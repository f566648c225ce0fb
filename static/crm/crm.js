/* Contacts list: "select everyone on this page" ticks or clears every row's box. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".crm-select-all")) return;
    var form = box.closest("form");
    if (!form) return;
    form.querySelectorAll('input[name="ids"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
