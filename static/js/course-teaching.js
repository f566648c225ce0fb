/* Course management: drag-and-drop ordering of items and the course address preview.
   Without this file the up/down buttons reorder items and the server fills in the address. */
(function () {
  "use strict";

  /* ---- Drag and drop: <ol data-reorder="FORM_ID"> of <li data-item-id>. ---- */
  function setUpReorder(list) {
    var form = document.getElementById(list.getAttribute("data-reorder"));
    if (!form || !window.fetch) return;
    var status = document.querySelector("[data-reorder-status]");
    var rows = function () { return Array.prototype.slice.call(list.querySelectorAll("[data-item-id]")); };
    var dragged = null;
    var before = null;

    function say(text) { if (status) status.textContent = text; }

    function refreshArrows() {
      var all = rows();
      all.forEach(function (row, index) {
        var up = row.querySelector('button[value="up"]');
        var down = row.querySelector('button[value="down"]');
        if (up) up.disabled = index === 0;
        if (down) down.disabled = index === all.length - 1;
      });
    }

    function save() {
      var data = new FormData(form);
      data.set("order", rows().map(function (row) { return row.getAttribute("data-item-id"); }).join(","));
      say("Saving the new order…");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok || !body.ok) throw new Error(body.error || "The order could not be saved.");
          say("New order saved.");
        });
      }).catch(function (error) {
        say((error && error.message) || "The order could not be saved. Reloading…");
        window.setTimeout(function () { window.location.reload(); }, 1500);
      });
    }

    rows().forEach(function (row) {
      row.setAttribute("draggable", "true");
      row.classList.add("is-draggable");
    });

    list.addEventListener("dragstart", function (event) {
      var row = event.target.closest && event.target.closest("[data-item-id]");
      if (!row) return;
      dragged = row;
      before = rows().indexOf(row);
      row.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.getAttribute("data-item-id"));
    });

    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var row = event.target.closest && event.target.closest("[data-item-id]");
      if (!row || row === dragged) return;
      var box = row.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? row.nextSibling : row);
    });

    list.addEventListener("drop", function (event) { event.preventDefault(); });

    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("is-dragging");
      var moved = rows().indexOf(dragged) !== before;
      dragged = null;
      if (moved) {
        refreshArrows();
        save();
      }
    });
  }

  /* ---- The course address: show what the server will make from the title. ---- */
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9\s-]/g, "").trim().replace(/[\s-]+/g, "-").slice(0, 72).replace(/-+$/, "");
  }

  function setUpSlug(form) {
    var title = form.querySelector('input[name="title"]');
    var slug = form.querySelector('input[name="slug"]');
    if (!title || !slug) return;
    var update = function () { slug.placeholder = slugify(title.value) || "my-course"; };
    title.addEventListener("input", update);
    update();
  }

  function start() {
    document.querySelectorAll("[data-reorder]").forEach(setUpReorder);
    document.querySelectorAll("[data-course-form]").forEach(setUpSlug);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
