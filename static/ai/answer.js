/* An AI answer as it is written: the page polls its generation (ai.views.answer) and shows
   the text so far, then the finished answer (HTML the server sanitised) with the items it cites.
   A draft's answer also fills the fields marked data-ai-fill, unless the person typed there. */
(function () {
  "use strict";

  var panel = document.querySelector("[data-ai-answer]");
  if (!panel) return;
  var url = panel.getAttribute("data-ai-answer");
  var text = panel.querySelector("[data-ai-text]");
  var html = panel.querySelector("[data-ai-html]");
  var error = panel.querySelector("[data-ai-error]");
  var status = panel.querySelector("[data-ai-status]");
  var sources = panel.querySelector("[data-ai-sources]");
  var started = Date.now();
  var failures = 0;

  function fill(answer) {
    document.querySelectorAll("[data-ai-fill]").forEach(function (field) {
      if (field.getAttribute("data-ai-touched")) return;
      field.value = answer;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  document.querySelectorAll("[data-ai-fill]").forEach(function (field) {
    field.addEventListener("input", function (event) {
      if (event.isTrusted) field.setAttribute("data-ai-touched", "1");
    });
  });

  function showSources(cited) {
    if (!sources || !cited.length) return;
    var list = sources.querySelector("ol");
    list.textContent = "";
    cited.forEach(function (source) {
      var entry = document.createElement("li");
      entry.value = source.number;
      var link = document.createElement("a");
      link.href = source.url;
      link.textContent = source.title;
      entry.appendChild(link);
      list.appendChild(entry);
    });
    sources.hidden = false;
  }

  function finish(state) {
    panel.setAttribute("aria-busy", "false");
    panel.setAttribute("data-state", state.status);
    if (state.status === "done") {
      html.innerHTML = state.html; // sanitised by the server (core.markdown)
      html.hidden = false;
      text.hidden = true;
      showSources(state.cited);
      fill(state.text);
      status.textContent = "Answer complete.";
    } else {
      error.textContent = state.error;
      error.hidden = false;
      status.textContent = "";
    }
    document.dispatchEvent(new CustomEvent("ai:answer", { detail: state }));
  }

  function delay() {
    // Quick while the first words are awaited, gentler for long answers.
    return Date.now() - started < 15000 ? 250 : 600;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 404) {
          return { status: "failed", error: panel.getAttribute("data-ai-gone") };
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        if (state.status === "done" || state.status === "failed") {
          finish(state);
          return;
        }
        if (state.text) {
          text.textContent = state.text;
          status.textContent = "Writing…";
        }
        window.setTimeout(poll, delay());
      })
      .catch(function () {
        failures += 1;
        if (failures > 10) {
          finish({ status: "failed", error: panel.getAttribute("data-ai-offline") });
          return;
        }
        window.setTimeout(poll, 1000 * failures);
      });
  }

  if (panel.getAttribute("data-state") === "queued" || panel.getAttribute("data-state") === "running") {
    panel.setAttribute("aria-busy", "true");
    poll();
  }
})();
