// The import progress page (templates/imports/progress.html): polls the job's state and
// moves the bar; once the job is over, opens the progress page again, which the server
// redirects to the result (or back to the preview with the errors). A static file, as the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var INTERVAL_MS = 1000;

  function start() {
    var box = document.querySelector("[data-status-url]");
    if (!box) return;
    var part = function (name) { return box.querySelector('[data-progress="' + name + '"]'); };

    function show(state) {
      part("label").textContent = state.label;
      part("stage").textContent = state.stage_label;
      var bar = part("bar");
      if (state.total > 0) {
        bar.max = state.total;
        bar.value = state.done;
        bar.textContent = state.done + " / " + state.total;
        part("count").textContent = state.done.toLocaleString("ja-JP") + " / " +
          state.total.toLocaleString("ja-JP") + " 行";
      }
    }

    function poll() {
      fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (state) {
          if (state.finished) {
            window.location.assign(state.next);
            return;
          }
          show(state);
          window.setTimeout(poll, INTERVAL_MS);
        })
        .catch(function () {
          // A logged-out session or a restarting server: let the server decide.
          window.setTimeout(function () { window.location.reload(); }, INTERVAL_MS * 3);
        });
    }

    window.setTimeout(poll, INTERVAL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
