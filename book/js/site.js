// Loaded on every page of the course website (html_js_files in _config.yml).
(function () {
  "use strict";

  // Frozen widgets: the page has no kernel, so say what the controls do here (widgets with
  // precomputed frames, class coursekit-frames, respond and carry their own note).
  function labelFrozenWidgets() {
    document.querySelectorAll(".cell_output .jupyter-widgets, .output .jupyter-widgets").forEach(
      function (widget) {
        var top = widget.closest(".cell_output, .output") || widget.parentElement;
        if (!top || top.querySelector(".frozen-widget-note")) {
          return;
        }
        if (top.querySelector(".coursekit-frames")) {
          return;  // precomputed frames: its controls do switch the picture (it says so itself)
        }
        var note = document.createElement("p");
        note.className = "frozen-widget-note";
        note.textContent = "Static preview \u2014 the controls do not recompute here. " +
          "Run the notebook (launch button above, or make lab) to interact.";
        top.insertBefore(note, top.firstChild);
      });
  }

  // Figures enlarge on click (and close on a second click or Escape).
  function zoomableFigures() {
    var overlay = document.createElement("div");
    overlay.className = "figure-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.hidden = true;
    var big = document.createElement("img");
    overlay.appendChild(big);
    document.body.appendChild(overlay);
    function close() { overlay.hidden = true; }
    overlay.addEventListener("click", close);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { close(); }
    });
    document.querySelectorAll(".cell_output img, .output img").forEach(function (image) {
      if (image.closest(".jupyter-widgets")) {
        return;  // widget pictures belong to their widget
      }
      image.classList.add("zoomable");
      image.addEventListener("click", function () {
        big.src = image.src;
        big.alt = image.alt;
        overlay.hidden = false;
      });
    });
  }

  // Search results: show the text of formulas without their TeX markup.
  function cleanSnippet(text) {
    return text.replace(/\\\(|\\\)|\\\[|\\\]|\$\$?/g, "")
      .replace(/\\(mathbf|mathrm|operatorname|text|boldsymbol)\{([^{}]*)\}/g, "$2")
      .replace(/\\([a-zA-Z]+)/g, "$1").replace(/[{}]/g, "");
  }
  function cleanSearchResults() {
    var results = document.getElementById("search-results");
    if (!results) {
      return;
    }
    function clean() {
      results.querySelectorAll("p.context, .context").forEach(function (p) {
        if (!p.dataset.cleaned) {
          p.textContent = cleanSnippet(p.textContent);
          p.dataset.cleaned = "1";
        }
      });
    }
    new MutationObserver(clean).observe(results, { childList: true, subtree: true });
  }

  window.addEventListener("load", function () {
    // the widgets manager draws at "load"; label once it has
    setTimeout(labelFrozenWidgets, 0);
    setTimeout(labelFrozenWidgets, 1500);
    zoomableFigures();
  });
  document.addEventListener("DOMContentLoaded", cleanSearchResults);
})();
