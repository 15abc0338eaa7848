// Live countdowns: the server's time and each clock's due time come from the page, the
// offset to this device's clock is measured once per poll, and /api/clocks is polled.
"use strict";
(function () {
  var body = document.body;
  var serverNow = Date.parse(body.getAttribute("data-now") || "");
  var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();
  var pollSeconds = parseInt(body.getAttribute("data-poll-seconds") || "30", 10) || 30;

  function span(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return (h ? h + "小时" : "") + m + "分" + (h ? "" : s + "秒");
  }

  function tick() {
    var now = Date.now() + offset;
    var nodes = document.querySelectorAll(".countdown[data-due]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var left = Date.parse(node.getAttribute("data-due")) - now;
      node.textContent = left >= 0 ? "剩余 " + span(left) : "已超时 " + span(left);
      var item = node.closest(".clock");
      if (item && left < 0 && !item.classList.contains("state-overdue")) {
        item.className = "clock state-overdue";
        var label = item.querySelector(".clock-state");
        if (label) { label.textContent = "已超时"; }
      }
    }
    var clockNode = document.getElementById("server-now");
    if (clockNode) {
      var d = new Date(now + 8 * 3600 * 1000);  // shown in Beijing time
      clockNode.textContent = d.toISOString().slice(0, 16).replace("T", " ");
    }
  }

  var LABELS = {pending: "计时中", due_soon: "即将到期", overdue: "已超时",
                met_on_time: "按时完成", met_late: "逾期完成", waived: "已豁免"};

  function apply(data) {
    var parsed = Date.parse(data.now);
    if (!isNaN(parsed)) { offset = parsed - Date.now(); }
    body.setAttribute("data-now", data.now);
    (data.clocks || []).forEach(function (c) {
      var key = c.incident_id + ":" + c.kind + ":" + c.sequence;
      var item = document.querySelector('.clock[data-key="' + key + '"]');
      if (!item) { return; }
      item.className = "clock state-" + c.state;
      var label = item.querySelector(".clock-state");
      if (label) { label.textContent = LABELS[c.state] || c.state; }
      var node = item.querySelector(".countdown");
      if (node && c.seconds_left !== null) { node.setAttribute("data-due", c.due_at); }
      if (node && c.seconds_left === null) {
        node.removeAttribute("data-due");
        node.textContent = c.met_at ? "已完成" : "—";
      }
    });
    tick();
  }

  function poll() {
    fetch("/api/clocks", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  if (document.querySelector(".clock")) {
    tick();
    setInterval(tick, 1000);
    setInterval(poll, pollSeconds * 1000);
  }
})();
