// Officer app: Red Alert (hold 3 s, 5 s to cancel), audio in ordered chunks, offline notes.
(function () {
  "use strict";
  const HOLD_MS = 3000, CANCEL_MS = 5000, SLICE_MS = 2000;
  const panel = document.getElementById("red-alert");
  const csrf = panel ? panel.dataset.csrf : "";

  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});

  function requestId() {
    return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^a-zA-Z0-9-]/g, "");
  }

  async function token() {
    let t = localStorage.getItem("attend.deviceToken");
    if (t) return t;
    const body = new URLSearchParams({ label: "browser: " + navigator.userAgent.slice(0, 80) });
    const r = await fetch(panel.dataset.deviceUrl, { method: "POST", body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
    if (!r.ok) throw new Error("could not register this phone");
    t = (await r.json()).token;
    localStorage.setItem("attend.deviceToken", t);
    return t;
  }

  async function api(method, path, body, extra) {
    const headers = Object.assign({ Authorization: "Bearer " + (await token()), "X-Request-Id": requestId() }, extra || {});
    if (body !== undefined && !(body instanceof Blob)) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    return fetch("/api/v1/" + path, { method, headers, body });
  }

  function position() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }),
        () => resolve(null), { enableHighAccuracy: true, timeout: 2500, maximumAge: 30000 });
    });
  }

  // --- ordered, retried audio upload -----------------------------------------------------
  function Uploader(alarmId) {
    const queue = []; let index = 0; let busy = false; let delay = 500;
    async function sha256(blob) {
      const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
      return Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    async function pump() {
      if (busy || !queue.length) return;
      busy = true;
      const blob = queue[0];
      try {
        const r = await api("PUT", "alarms/" + alarmId + "/audio/" + index, blob,
          { "Content-Type": blob.type.split(";")[0] || "audio/webm", "X-Chunk-SHA256": await sha256(blob) });
        if (r.ok) { queue.shift(); index += 1; delay = 500; }
        else if (r.status === 409) { const j = await r.json(); if (typeof j.expected === "number") index = j.expected; else queue.shift(); }
        else if (r.status < 500) { queue.shift(); }
        else throw new Error("server " + r.status);
      } catch (e) { await new Promise((ok) => setTimeout(ok, delay)); delay = Math.min(delay * 2, 15000); }
      busy = false;
      pump();
    }
    return { push(blob) { if (blob.size) { queue.push(blob); pump(); } }, pending: () => queue.length };
  }

  async function record(alarmId) {
    if (!navigator.mediaDevices || !window.MediaRecorder) return null;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const recorder = new MediaRecorder(stream);
      const uploader = Uploader(alarmId);
      recorder.ondataavailable = (e) => uploader.push(e.data);
      recorder.start(SLICE_MS);
      window.attendField.recorder = recorder;
      return recorder;
    } catch (e) { return null; }
  }

  // --- Red Alert --------------------------------------------------------------------------
  window.attendField = { alarmId: null, recorder: null };
  const button = document.getElementById("alert-button");
  const state = document.getElementById("alert-state");
  const message = document.getElementById("alert-message");
  const cancel = document.getElementById("alert-cancel");
  let holdTimer = null, countdown = null, sent = false;

  function say(text) { state.hidden = false; message.textContent = text; }

  function startHold(e) {
    e.preventDefault();
    if (sent || countdown) return;
    button.classList.add("holding");
    say("Keep holding…");
    holdTimer = setTimeout(armed, HOLD_MS);
  }
  function endHold() {
    button.classList.remove("holding");
    if (holdTimer) { clearTimeout(holdTimer); holdTimer = null; if (!countdown && !sent) state.hidden = true; }
  }
  function armed() {
    holdTimer = null;
    let left = CANCEL_MS / 1000;
    say("Sending Red Alert in " + left + " s — tap Cancel to stop");
    countdown = setInterval(() => {
      left -= 1;
      if (left > 0) say("Sending Red Alert in " + left + " s — tap Cancel to stop");
      else { clearInterval(countdown); countdown = null; send(); }
    }, 1000);
  }
  async function send() {
    sent = true;
    say("Sending Red Alert…");
    const body = Object.assign({ kind: "red_alert", at: new Date().toISOString() }, (await position()) || {});
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const r = await api("POST", "alarms/", body);
        if (r.ok || r.status === 409) {
          const j = await r.json();
          window.attendField.alarmId = j.alarm_id;
          say("Red Alert sent. The monitoring centre has it. Recording audio.");
          cancel.textContent = "Cancel alarm (PIN)";
          record(j.alarm_id);
          return;
        }
        if (r.status < 500) { say("Could not send: " + (await r.text())); sent = false; return; }
      } catch (e) { /* offline: keep trying */ }
      say("No connection — retrying…");
      await new Promise((ok) => setTimeout(ok, Math.min(1000 * (attempt + 1), 5000)));
    }
  }
  async function onCancel() {
    if (countdown) { clearInterval(countdown); countdown = null; state.hidden = true; say("Cancelled. Nothing was sent."); return; }
    if (window.attendField.alarmId) {
      const pin = prompt("PIN to cancel the alarm");
      if (!pin) return;
      const r = await api("POST", "alarms/" + window.attendField.alarmId + "/cancel", { pin });
      if (r.ok) {
        if (window.attendField.recorder) window.attendField.recorder.stop();
        say("Alarm cancelled.");
      } else say("PIN not recognised.");
    }
  }
  if (button) {
    button.addEventListener("pointerdown", startHold);
    ["pointerup", "pointerleave", "pointercancel"].forEach((n) => button.addEventListener(n, endHold));
    button.addEventListener("contextmenu", (e) => e.preventDefault());
    cancel.addEventListener("click", onCancel);
  }

  // --- offline notes: kept in localStorage until the server has them ----------------------
  const NOTES = "attend.pendingNotes";
  const noteForm = document.getElementById("note-form");
  const noteStatus = document.getElementById("note-status");
  function pending() { return JSON.parse(localStorage.getItem(NOTES) || "[]"); }
  async function syncNotes() {
    let notes = pending();
    while (notes.length) {
      try {
        const r = await api("POST", "notes/", notes[0]);
        if (!(r.ok || r.status === 409 || r.status === 400)) break;
      } catch (e) { break; }
      notes = notes.slice(1);
      localStorage.setItem(NOTES, JSON.stringify(notes));
    }
    if (noteStatus) noteStatus.textContent = notes.length ? notes.length + " note(s) waiting for a connection" : "All notes sent.";
  }
  if (noteForm) {
    noteForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = document.getElementById("note-text").value.trim();
      if (!text) return;
      localStorage.setItem(NOTES, JSON.stringify(pending().concat([{ text, at: new Date().toISOString() }])));
      document.getElementById("note-text").value = "";
      syncNotes();
    });
    window.addEventListener("online", syncNotes);
    syncNotes();
  }

  // --- visit form: prefill hazards recorded at this address before -----------------------
  const visitForm = document.getElementById("visit-form");
  if (visitForm) {
    const address = visitForm.querySelector("[name=address]");
    const hazards = visitForm.querySelector("[name=hazards]");
    address.addEventListener("change", async () => {
      const r = await fetch(visitForm.dataset.hazardsUrl + "?address=" + encodeURIComponent(address.value));
      if (!r.ok) return;
      // Read the answer first, then look at the field: the officer may have typed meanwhile.
      const known = (await r.json()).hazards;
      if (known.length && !hazards.value) hazards.value = known.join(", ");
    });
  }

  // Countdown on the visit page.
  setInterval(() => {
    document.querySelectorAll(".countdown[data-at]").forEach((el) => {
      const left = Math.round((Date.parse(el.dataset.at) - Date.now()) / 1000);
      el.textContent = left > 0 ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "now";
    });
  }, 1000);
})();
