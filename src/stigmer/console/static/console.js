// The Stigmer console's only script: live updates over server-sent events, relative
// times, in-page confirmations and the run form's JSON check. Pages work as plain HTML
// links and forms; this adds what a static page cannot do.
"use strict";

(function () {
  function formatSeconds(total) {
    var s = Math.max(0, Math.floor(total));
    if (s < 120) return s + "s";
    if (s < 7200) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  }

  // Ages and running durations tick in the page; nothing is fetched for them.
  function refreshTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-age]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = formatSeconds((now - at) / 1000) + " ago";
    });
    document.querySelectorAll("[data-duration]").forEach(function (el) {
      var from = Date.parse(el.dataset.from || "");
      if (isNaN(from)) return;
      var to = el.dataset.to ? Date.parse(el.dataset.to) : now;
      el.textContent = formatSeconds((to - from) / 1000);
    });
  }

  function fromHtml(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content;
  }

  function showProblem(text) {
    var banner = document.getElementById("live-problem");
    if (!banner) return;
    banner.textContent = text ? "Live updates interrupted: " + text : "";
    banner.hidden = !text;
  }

  function applyUpdate(ops) {
    ops.forEach(function (op) {
      var target = document.getElementById(op.target);
      if (!target) return;
      if (op.mode === "append") {
        target.querySelectorAll(".empty").forEach(function (el) { el.remove(); });
        target.appendChild(fromHtml(op.html));
        return;
      }
      if (target.querySelector("form.confirm")) return; // a confirmation is open here: keep it
      target.innerHTML = op.html;
    });
    refreshTimes();
  }

  function applyRows(payload) {
    var body = document.getElementById("rows");
    if (!body) return;
    var wanted = {};
    payload.order.forEach(function (id, index) {
      wanted[id] = true;
      var existing = document.getElementById("row-" + id);
      var html = payload.rows[id];
      var row = existing;
      if (html !== undefined) {
        var fresh = fromHtml(html).firstElementChild;
        if (!existing || existing.dataset.rev !== fresh.dataset.rev) {
          if (existing) existing.replaceWith(fresh);
          row = fresh;
        }
      }
      if (row && body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
    });
    Array.prototype.slice.call(body.children).forEach(function (row) {
      if (!wanted[row.id.replace(/^row-/, "")]) row.remove();
    });
    var empty = document.getElementById("rows-empty");
    if (empty) empty.hidden = payload.order.length > 0;
    refreshTimes();
  }

  function follow(holder) {
    var source = new EventSource(holder.dataset.stream);
    var state = document.getElementById("live-state");
    source.addEventListener("update", function (event) {
      showProblem("");
      applyUpdate(JSON.parse(event.data));
    });
    source.addEventListener("rows", function (event) {
      showProblem("");
      applyRows(JSON.parse(event.data));
    });
    source.addEventListener("problem", function (event) { showProblem(event.data); });
    source.addEventListener("end", function () {
      source.close();
      if (state) state.textContent = "Finished.";
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // In-page confirmations: an open form takes the place of the buttons that opened it,
  // so while it is open its own buttons are the only ones on the page.
  var openedFrom = new WeakMap();
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-opens]");
    if (opener) {
      var template = document.getElementById(opener.dataset.opens);
      var bar = opener.closest("[data-action-bar]");
      if (!template || !bar) return;
      var form = template.content.firstElementChild.cloneNode(true);
      openedFrom.set(form, bar);
      bar.replaceWith(form);
      var field = form.querySelector("textarea, input:not([type=hidden])");
      (field || form.querySelector("button")).focus();
      return;
    }
    var closer = event.target.closest("[data-closes]");
    if (closer) {
      var open = closer.closest("form");
      var buttons = openedFrom.get(open);
      if (!buttons) return;
      open.replaceWith(buttons);
      var first = buttons.querySelector("button");
      if (first) first.focus();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("form.confirm");
    var back = form && form.querySelector("[data-closes]");
    if (back) back.click();
  });

  // The run form: the input must be JSON before it is sent (the server checks the schema).
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector("textarea[data-json]");
    if (!field) return;
    var problem = document.getElementById(field.getAttribute("aria-describedby"));
    try {
      JSON.parse(field.value);
      field.setCustomValidity("");
      if (problem) problem.hidden = true;
    } catch (error) {
      event.preventDefault();
      field.setCustomValidity("not valid JSON");
      if (problem) {
        problem.textContent = "Not valid JSON: " + error.message;
        problem.hidden = false;
      }
      field.focus();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-json]")) {
      event.target.setCustomValidity("");
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    refreshTimes();
    window.setInterval(refreshTimes, 1000);
    document.querySelectorAll("[data-stream]").forEach(follow);
  });
})();
