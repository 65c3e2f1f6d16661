// authprobe: live progress of a queued or running scan (the page reads without it).
// Finds <div id="live" data-events="/scans/N/events">, follows its Server-Sent Events,
// updates the <progress> and the text on `progress`, and reloads on `done`. Only
// textContent and attributes are set: nothing from the stream is parsed as HTML.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || typeof window.EventSource !== "function") return;
  var url = live.getAttribute("data-events");
  if (!url || url.charAt(0) !== "/") return;
  var bar = document.getElementById("live-progress");
  var text = document.getElementById("live-text");
  var phase = document.getElementById("live-phase");
  var status = document.getElementById("live-status");
  var reloading = false;
  function reload() {
    if (reloading) return;
    reloading = true;
    window.location.reload();
  }
  function setStatus(s) {
    if (!status || typeof s !== "string" || !/^[a-z]+$/.test(s)) return;
    var chip = status.firstElementChild || status;
    chip.textContent = s;
    chip.className = "st st-" + s;
  }
  var es = new EventSource(url);
  es.addEventListener("progress", function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (_) { return; }
    if (!d || typeof d !== "object") return;
    setStatus(d.status);
    var done = Number(d.done), total = Number(d.total);
    if (bar && isFinite(total) && total > 0 && isFinite(done)) {
      bar.max = total;
      bar.value = Math.min(Math.max(done, 0), total);
    }
    if (text) {
      if (d.status === "queued") text.textContent = "Waiting in the queue";
      else if (isFinite(total) && total > 0) text.textContent = Math.min(done, total) + " of " + total;
      else text.textContent = "Starting\u2026";
    }
    if (phase && typeof d.phase === "string") phase.textContent = d.phase;
  });
  es.addEventListener("done", function () {
    es.close();
    reload();
  });
  es.onerror = function () {
    // The browser retries on its own; a stream closed for good (the scan ended while
    // we were away, or the server went down) falls back to a slow reload.
    if (es.readyState === EventSource.CLOSED) setTimeout(reload, 5000);
  };
})();
