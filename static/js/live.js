// Live updates: a WebSocket tells the page when a document changes or a
// notification arrives; without it, the page polls. Reading never needs this.
(function () {
  "use strict";
  var countEl = document.querySelector("[data-unread-count]");

  function setCount(n) {
    if (!countEl) return;
    countEl.textContent = n;
    countEl.hidden = !n;
  }

  function refreshDocument(uuid) {
    fetch("/api/v1/documents/" + uuid + "/", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) {
        if (!doc) return;
        document.querySelectorAll('[data-document="' + uuid + '"]').forEach(function (el) {
          el.className = el.className.replace(/status-\w+/, "") + " status-" + doc.status;
          var status = el.querySelector("[data-status]");
          if (status) status.textContent = doc.status_label;
        });
      });
  }

  function pending() {
    return Array.prototype.map.call(
      document.querySelectorAll("[data-document]:not(.status-ready):not(.status-rejected)"),
      function (el) { return el.getAttribute("data-document"); }
    );
  }

  function poll() {
    pending().forEach(refreshDocument);
    fetch("/api/v1/notifications/unread-count/", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) setCount(data.unread); });
  }

  var polling = null;
  function startPolling() { if (!polling) polling = setInterval(poll, 15000); }

  if (!("WebSocket" in window)) { startPolling(); return; }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket;
  try { socket = new WebSocket(scheme + window.location.host + "/ws/notifications/"); } catch (e) { startPolling(); return; }
  socket.onmessage = function (event) {
    var message = JSON.parse(event.data);
    if (message.type !== "notification") return;
    if (message.data.document) refreshDocument(message.data.document);
    if (typeof message.data.unread === "number") setCount(message.data.unread);
  };
  socket.onclose = startPolling;
  socket.onerror = startPolling;
  // Uploads sent before the socket opened still get their news.
  setTimeout(function () { pending().forEach(refreshDocument); }, 3000);
})();
