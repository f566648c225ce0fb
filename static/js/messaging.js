/* Messaging: small enhancements over pages that work without JavaScript. */
(function () {
  "use strict";

  /* After a swap htmx copies some attributes from the old element to its replacement. Browsers
     (autofill) leave empty style attributes on inputs, and setting one breaks the page's
     Content-Security-Policy, which allows no inline style: don't carry style over. */
  function settleWithoutStyle() {
    if (!window.htmx) return false;
    window.htmx.config.attributesToSettle = ["class", "width", "height"];
    return true;
  }
  if (!settleWithoutStyle()) document.addEventListener("DOMContentLoaded", settleWithoutStyle);

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr.status;
    /* A poll answered 304 Not Modified: nothing changed, keep what is on the page
       (htmx would otherwise swap in the empty body and the poller would be gone). */
    if (status === 304) {
      detail.shouldSwap = false;
      return;
    }
    /* The composer comes back with its error (too long, muted, too fast): show it, text kept. */
    if (detail.elt && detail.elt.matches && detail.elt.matches("[data-composer]") &&
        (status === 400 || status === 403 || status === 413 || status === 429)) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  /* Enter sends, Shift+Enter adds a line; not while an input method is composing text. */
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!field.matches || !field.matches("[data-composer] textarea")) return;
    event.preventDefault();
    if (field.value.trim() || field.form.querySelector("input[type=file]").files.length) {
      field.form.requestSubmit();
    }
  });

  function showKeys(root) {
    root.querySelectorAll("[data-composer] .composer-keys").forEach(function (hint) {
      hint.hidden = false;
    });
  }

  /* Close an open reaction picker or actions menu once one of its buttons was used. */
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.target;
    if (!elt.closest) return;
    var around = elt.closest("details[open]");
    if (around) around.open = false;
    elt.querySelectorAll("details[open]").forEach(function (menu) { menu.open = false; });
  });

  document.addEventListener("DOMContentLoaded", function () { showKeys(document); });
  document.addEventListener("htmx:load", function (event) { showKeys(event.target); });
})();
