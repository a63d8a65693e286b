// Monitoring console: WebSocket push, re-read the server-rendered queue and the open alarm.
// Events carry ids only; the page fetches what this operator may see.
(function () {
  "use strict";
  const root = document.getElementById("console");
  if (!root) return;
  const queueEl = document.getElementById("queue");
  const detailEl = document.getElementById("detail");
  const statusEl = document.getElementById("live-status");
  const alarmUrl = (id) => root.dataset.alarmUrl.replace("/0/", "/" + id + "/");
  let selected = root.dataset.selected || "";
  let retry = 500;
  window.attendConsole = { events: [], connected: false };

  async function fetchInto(url, el) {
    const response = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    if (response.ok) el.innerHTML = await response.text();
    return response.ok;
  }

  async function refreshQueue() {
    await fetchInto(root.dataset.queueUrl, queueEl);
    markSelected();
  }

  async function showAlarm(id) {
    selected = String(id);
    history.replaceState(null, "", "?alarm=" + id);
    await fetchInto(alarmUrl(id), detailEl);
    markSelected();
    tick();
  }

  function markSelected() {
    queueEl.querySelectorAll(".alarm-item").forEach((b) => b.classList.toggle("selected", b.dataset.alarmId === selected));
  }

  queueEl.addEventListener("click", (e) => {
    const item = e.target.closest(".alarm-item");
    if (item) showAlarm(item.dataset.alarmId);
  });

  // Audio: play through an <audio> element; the server logs each play in the custody chain.
  detailEl.addEventListener("click", (e) => {
    const button = e.target.closest("button.play");
    if (!button) return;
    const audio = new Audio(button.dataset.src);
    audio.play().catch(() => { button.textContent = "⚠ cannot play"; });
  });

  // Never swap the panel under an operator who is typing a reference or a note.
  function typing() {
    const el = document.activeElement;
    return detailEl.contains(el) && /INPUT|TEXTAREA|SELECT/.test(el.tagName);
  }

  function fmt(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function tick() {
    document.querySelectorAll(".countdown[data-at]").forEach((el) => {
      const left = (Date.parse(el.dataset.at) - Date.now()) / 1000;
      el.textContent = left > 0 ? fmt(left) : "due now";
    });
  }
  setInterval(tick, 1000);

  async function onEvent(event) {
    event.receivedAt = Date.now() / 1000;
    window.attendConsole.events.push(event);
    await refreshQueue();
    if (event.alarm_id && String(event.alarm_id) === selected && !typing()) await showAlarm(selected);
    else if (!selected && event.type === "alarm.raised") await showAlarm(event.alarm_id);
  }

  function connect() {
    if (root.dataset.live !== "ws") { statusEl.textContent = "read-only · refreshes every 5 s"; return; }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    socket.onopen = () => { retry = 500; statusEl.textContent = "live"; window.attendConsole.connected = true; refreshQueue(); };
    socket.onmessage = (m) => onEvent(JSON.parse(m.data));
    socket.onclose = () => {
      window.attendConsole.connected = false;
      statusEl.textContent = "reconnecting…";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  connect();
  // Safety net: a dropped socket or a safetyd in another process still shows up within 5 s.
  setInterval(() => { refreshQueue(); if (selected && !typing()) showAlarm(selected); }, 5000);
  if (selected) showAlarm(selected);
})();
