// The broadcasts pages without a reload: the recipient count as the audience is
// chosen, and the progress while something is being sent. Without this script the
// "count" button and a periodic refresh do the same.
(function () {
  "use strict";

  function liveCount(form) {
    var select = form.querySelector("#audience");
    var output = form.querySelector("#count");
    form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    select.addEventListener("change", function () {
      if (!select.value) { output.textContent = ""; return; }
      var url = form.dataset.count + "?audience=" + encodeURIComponent(select.value);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) { output.textContent = data.text || data.error || ""; })
        .catch(function () { output.textContent = ""; });
    });
  }

  function progress(box) {
    var every = parseInt(box.dataset.poll, 10) || 3000;
    function tick() {
      fetch(box.dataset.progress, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var finished = false;
          data.rows.forEach(function (row) {
            var tr = box.querySelector('[data-broadcast="' + row.id + '"]');
            if (!tr) { return; }
            ["state", "sent", "waiting", "failed"].forEach(function (name) {
              var cell = tr.querySelector('[data-field="' + name + '"]');
              if (cell && cell.textContent !== String(row[name])) { cell.textContent = row[name]; }
            });
            if (!row.active && tr.querySelector("a[href$='/cancel']")) { finished = true; }
          });
          // Reloaded without the query, so a notice about queueing does not outlive it.
          if (finished) { window.location.assign(window.location.pathname); return; }
          if (data.running) { window.setTimeout(tick, every); }
        })
        .catch(function () { window.setTimeout(tick, every * 2); });
    }
    window.setTimeout(tick, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("compose");
    if (form) { liveCount(form); }
    var box = document.getElementById("broadcasts");
    if (box && box.hasAttribute("data-running")) { progress(box); }
  });
})();
