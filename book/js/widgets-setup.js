// Loaded on pages with saved widget state, after require.js and before the
// Jupyter widgets HTML manager (embed-amd.js); see nb_ipywidgets_js in _config.yml.
(function () {
  "use strict";
  // This file's folder, e.g. https://host/course/_static/widgets/
  var here = document.currentScript.src.replace(/[^/]*$/, "");

  // embed-amd.js finds its icon fonts next to the URL require.js gives its
  // modules ("@jupyter-widgets/base", "@jupyter-widgets/controls",
  // "@jupyter-widgets/html-manager/dist/...", all relative to the page by
  // default): point them at this folder, where build.py copied the fonts.
  var folder = here.replace(/\/$/, "");
  window.requirejs.config({
    paths: {
      "@jupyter-widgets": folder,
      "@jupyter-widgets/html-manager/dist": folder,
    },
  });

  // The manager typesets widget labels with the MathJax 2 call
  // MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the site runs
  // MathJax 3, which has no Hub. Forward those calls to MathJax 3.
  function addHub() {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub || !mathjax.startup) {
      return;
    }
    mathjax.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element) {
          mathjax.startup.promise.then(function () {
            return mathjax.typesetPromise([element]);
          });
        }
      },
    };
  }
  // MathJax is a deferred script: it has run by DOMContentLoaded, and the
  // widgets are drawn at "load", after that.
  document.addEventListener("DOMContentLoaded", addHub);
})();
