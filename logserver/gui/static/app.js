// RPC log: the parts of the interface that need JavaScript. Every page
// works without it; this adds the live view, clickable rows, copying and
// expanding JSON.
(function () {
  "use strict";

  // A click on a list row (outside its links) opens the pair.
  document.addEventListener("click", function (e) {
    var tr = e.target.closest("tr[data-id]");
    if (!tr || e.target.closest("a, button, input") || String(window.getSelection())) return;
    var a = tr.querySelector("td.corr a");
    if (!a) return;
    if (e.ctrlKey || e.metaKey) window.open(a.href);
    else window.location.href = a.href;
  });

  // "/" jumps to the search box.
  document.addEventListener("keydown", function (e) {
    var q = document.getElementById("q");
    var t = document.activeElement && document.activeElement.tagName;
    if (e.key === "/" && q && !/^(INPUT|TEXTAREA|SELECT)$/.test(t)) {
      e.preventDefault();
      q.focus();
      q.select();
    }
  });

  // The live view: rows that arrive are added at the top, the rows of
  // awaiting requests are replaced when their response arrives.
  var live = document.getElementById("live");
  var rows = document.getElementById("rows");
  if (live && rows && window.EventSource) {
    var source = new EventSource(live.getAttribute("data-events"));
    live.hidden = false;
    live.title = "New requests appear as they arrive";
    source.onopen = function () { live.className = "live on"; live.textContent = "Live"; };
    source.onerror = function () { live.className = "live"; live.textContent = "Reconnecting"; };
    source.addEventListener("pair", function (ev) {
      var d = JSON.parse(ev.data);
      if (document.getElementById("pair-" + d.id)) return;
      rows.insertAdjacentHTML("afterbegin", d.html);
      rows.firstElementChild.classList.add("fresh");
      var empty = document.getElementById("empty");
      if (empty) empty.remove();
      while (rows.children.length > 500) rows.lastElementChild.remove();
    });
    source.addEventListener("update", function (ev) {
      var d = JSON.parse(ev.data);
      var old = document.getElementById("pair-" + d.id);
      if (!old) return;
      old.insertAdjacentHTML("afterend", d.html);
      old.nextElementSibling.classList.add("fresh");
      old.remove();
    });
    source.addEventListener("counts", function (ev) {
      var d = JSON.parse(ev.data);
      Object.keys(d).forEach(function (k) {
        var el = document.querySelector('[data-count="' + k + '"]');
        if (el) el.textContent = d[k];
      });
    });
  }

  // A pair still awaiting its response reloads when it arrives.
  var waiting = document.querySelector(".awaiting[data-events]");
  if (waiting && window.EventSource) {
    var wait = new EventSource(waiting.getAttribute("data-events"));
    waiting.textContent = "No response yet: waiting for it…";
    wait.addEventListener("update", function () {
      wait.close();
      window.location.reload();
    });
    // Its progress updates are listed as they come (drawn by the server).
    var progress = document.getElementById("progress");
    wait.addEventListener("progress", function (e) {
      if (!progress) return;
      progress.innerHTML = JSON.parse(e.data).html;
      progress.hidden = false;
    });
  }

  // Copy the correlation id.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 1500);
      });
    });
  });

  // Expand or collapse a whole payload.
  document.querySelectorAll(".side .tools").forEach(function (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-expand]");
      if (!b) return;
      var open = b.getAttribute("data-expand") === "1";
      tools.closest(".side").querySelectorAll(".json details").forEach(function (d) { d.open = open; });
    });
  });
})();
