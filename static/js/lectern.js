/* Lectern's small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  var doc = document.documentElement;

  /* CSRF tokens for pages every visitor shares. Such a page (a course's storefront) is cached
     whole, so its forms hold no token; each says where to fetch this browser's own
     (data-csrf-from), and gets it just before it is sent. */
  var tokenRequest = null;

  function tokenField(form) {
    var field = form.querySelector('input[name="csrfmiddlewaretoken"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrfmiddlewaretoken";
      form.prepend(field);
    }
    return field;
  }

  function csrfToken(form) {
    var field = tokenField(form);
    if (field.value || !form.hasAttribute("data-csrf-from")) return Promise.resolve(field.value);
    if (!tokenRequest) {
      tokenRequest = fetch(form.getAttribute("data-csrf-from"), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      }).then(function (response) {
        if (!response.ok) throw new Error("No CSRF token: " + response.status);
        return response.json();
      }).then(function (data) {
        return data.token;
      });
      tokenRequest.catch(function () { tokenRequest = null; });
    }
    return tokenRequest.then(function (token) {
      field.value = token;
      return token;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-csrf-from]")) return;
    if (form.matches("[data-color-scheme-form]") || tokenField(form).value) return;
    event.preventDefault();
    csrfToken(form).then(function () {
      form.submit();
    }, function () {
      /* The form's own page holds the same form with a token. */
      window.location.assign(form.action);
    });
  });

  /* Colour scheme: switch at once, save in the background (the view answers 204 to htmx-style
     requests). Without JavaScript the same form posts and comes back to the page. */
  function setScheme(scheme) {
    doc.setAttribute("data-theme", scheme);
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.setAttribute("content", scheme === "system" ? "light dark" : scheme);
    document.querySelectorAll("[data-color-scheme-form] button[name=color_scheme]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.value === scheme ? "true" : "false");
    });
    document.querySelectorAll('input[name="color_scheme"][type="radio"]').forEach(function (r) {
      r.checked = r.value === scheme;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-color-scheme-form]") || !window.fetch) return;
    var button = event.submitter;
    if (!button || button.name !== "color_scheme") return;
    event.preventDefault();
    setScheme(button.value);
    csrfToken(form).then(function () {
      var data = new FormData(form);
      data.set("color_scheme", button.value);
      return fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "HX-Request": "true" },
      });
    }).then(function (response) {
      if (!response.ok) form.submit();
    }).catch(function () {
      /* Offline: the choice still applies to this page. */
    });
  });

  /* Preferences: preview a colour scheme as soon as it is picked; saving keeps it. */
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches("[data-scheme-preview] input[name=color_scheme]")) {
      doc.setAttribute("data-theme", input.value);
    }
  });

  /* Confirm before destructive actions: <form data-confirm="End every other session?">. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  /* Toasts: a close button, and quiet ones leave by themselves unless hovered or focused. */
  function dismiss(toast) {
    if (!toast || toast.classList.contains("is-leaving")) return;
    toast.classList.add("is-leaving");
    var remove = function () {
      var list = toast.parentNode;
      toast.remove();
      if (list && !list.children.length) list.remove();
    };
    toast.addEventListener("animationend", remove, { once: true });
    window.setTimeout(remove, 400);
  }

  function setUpToasts() {
    document.querySelectorAll("[data-toast]").forEach(function (toast) {
      var close = toast.querySelector("[data-toast-close]");
      if (close) {
        close.hidden = false;
        close.addEventListener("click", function () { dismiss(toast); });
      }
      if (toast.classList.contains("toast-error") || toast.classList.contains("toast-warning")) return;
      var timer = null;
      var start = function () { timer = window.setTimeout(function () { dismiss(toast); }, 7000); };
      var stop = function () { window.clearTimeout(timer); };
      toast.addEventListener("mouseenter", stop);
      toast.addEventListener("mouseleave", start);
      toast.addEventListener("focusin", stop);
      toast.addEventListener("focusout", start);
      start();
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") document.querySelectorAll("[data-toast]").forEach(dismiss);
  });

  /* Polling (new messages, unread badges, an export being prepared) rests while the tab is
     hidden: htmx's timed polls carry no triggering event, clicks and submits always do. When
     the tab is shown again, every poller is asked to catch up at once. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && !event.detail.requestConfig.triggeringEvent) event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll('[hx-trigger*="every"]').forEach(function (poller) {
      window.htmx.trigger(poller, "lectern:visible");
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpToasts);
  } else {
    setUpToasts();
  }
})();
