// HerdLens web app, shared part: sign in (token -> HttpOnly session cookie), live sockets, and the
// grid of the streams this user may watch, each tile with its state, alert badge and counted against
// declared head. The single-stream console is console.js; the auditor's page audit.js. No dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { sockets: [], tiles: new Map(), order: [], single: null, me: null, framesShown: 0, framesReceived: 0 };

function show(view) {
  for (const id of ["signin", "grid", "single", "recordings", "player"]) $(id).hidden = id !== view;
  state.view = view;
  $("back").hidden = !(view === "single" || ((view === "recordings" || view === "player") && state.role !== "auditor"));
  $("signout").hidden = view === "signin";
  $("recordings-button").hidden = view === "signin" || view === "recordings";
  const live = view === "grid" || view === "single";
  $("notify-setting").hidden = !live;
  $("sound-setting").hidden = !live;
}

function setConnection(text) {
  const el = $("connection");
  el.textContent = t(text);
  el.dataset.state = text;
  el.className = "state " + text;
}

function closeSockets() {
  for (const ws of state.sockets) { ws.intended = true; ws.close(1000); }
  state.sockets = [];
  clearTimeout(state.retry);
}

// The session ended on the server (token revoked or expired, or signed out elsewhere): back to sign-in.
function signedOut(message) {
  closeSockets();
  show("signin");
  $("signin-error").textContent = message;
}

// Who is signed in, or null. Always answered 200, so the page logs no failed request before sign-in.
async function whoAmI() {
  const response = await fetch("/api/v1/session/status");
  const status = await response.json();
  return status.signedIn ? status : null;
}

// A live socket that dropped without us closing it: if the session is gone (token revoked or expired:
// close 1008; or signed out in another tab) back to sign-in, with the server's reason;
// otherwise (network, server briefly away) the same view reconnects with backoff, 1 s up to 15 s.
async function onDropped(event, reopen) {
  try {
    if (!(await whoAmI())) return signedOut("Signed out: " + (event.code === 1008 && event.reason ? event.reason : "the session ended") + ".");
  } catch (e) {
    // Server unreachable: try again below.
  }
  retryLater(reopen);
}

function retryLater(reopen) {
  state.backoff = Math.min(15000, (state.backoff || 500) * 2);
  setConnection("reconnecting");
  clearTimeout(state.retry);
  state.retry = setTimeout(reopen, state.backoff);
}

// Envelope: 4-byte big-endian header length, JSON header, payload.
function parseEnvelope(buffer) {
  const view = new DataView(buffer);
  const n = view.getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  return { header, payload: new Uint8Array(buffer, 4 + n) };
}

function liveSocket(streams, options, onFrame, onEvent, reopen) {
  // Options go in the URL so that they hold from the very first frame (a grid never gets a full-size one).
  const params = streams.map((s) => "stream=" + encodeURIComponent(s));
  for (const [key, value] of Object.entries(options)) params.push(key + "=" + encodeURIComponent(value));
  const query = params.join("&");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/v1/live?${query}`);
  ws.binaryType = "arraybuffer";
  setConnection("connecting");
  ws.onopen = () => {
    if (ws.intended) return;
    state.backoff = 0;
    setConnection("online");
  };
  ws.onclose = (event) => {
    // A socket closed on purpose (leaving the grid for one stream) may finish closing after its successor
    // is open: it must not mark the page offline.
    if (ws.intended) return;
    setConnection("offline");
    onDropped(event, reopen);
  };
  ws.onmessage = (message) => {
    if (typeof message.data === "string") {
      const event = JSON.parse(message.data);
      notifyCritical(event);
      onEvent(event);
    } else {
      state.framesReceived = (state.framesReceived || 0) + 1;
      onFrame(parseEnvelope(message.data));
    }
  };
  state.sockets.push(ws);
  return ws;
}

function showImage(img, payload) {
  const url = URL.createObjectURL(new Blob([payload], { type: "image/jpeg" }));
  const previous = img.dataset.url;
  img.src = url;
  img.dataset.url = url;
  state.framesShown += 1;
  if (previous) setTimeout(() => URL.revokeObjectURL(previous), 1000);
}

function rate(record) {
  const now = performance.now();
  record.times = (record.times || []).filter((t) => now - t < 2000);
  record.times.push(now);
  return (record.times.length / 2).toFixed(1);
}

function latencyMs(header) {
  return Math.max(0, Date.now() - Date.parse(header.receivedAt));
}

// What a stream's tile and console know: raised alerts by id, net counts, declared head, session.
function streamSummary(stream) {
  if (!state.summaries) state.summaries = new Map();
  if (!state.summaries.has(stream)) state.summaries.set(stream, { alerts: new Map(), counts: {}, declared: null, session: null });
  return state.summaries.get(stream);
}

async function loadSummary(stream) {
  const s = streamSummary(stream);
  const response = await fetch(`/api/v1/streams/${encodeURIComponent(stream)}/alerts`).catch(() => null);
  if (!response || !response.ok) return s;
  const body = await response.json();
  s.alerts = new Map((body.alerts || []).map((a) => [a.id, a]));
  s.counts = body.counts || {};
  s.declared = body.declaredHeadCount ?? s.declared;
  s.session = body.session ?? s.session;
  s.marks = body.marks || [];
  return s;
}

// Applies a live event to the stream's summary; true when it changed what a tile shows.
function applyEvent(event) {
  if (!event.stream) return false;
  const s = streamSummary(event.stream);
  if ((event.event === "alert" || event.event === "alert.acknowledged") && event.detail) s.alerts.set(event.detail.id, event.detail);
  else if (event.event === "alert.cleared" && event.detail) s.alerts.delete(event.detail.id);
  else if (event.event === "crossing" && event.counts) s.counts = event.counts;
  else if (event.event === "session.start") {
    s.session = event.session;
    s.counts = {};
    if (event.consignment && event.consignment.declaredHeadCount != null) s.declared = event.consignment.declaredHeadCount;
  } else if (event.event === "session.end") s.session = null;
  else return false;
  return true;
}

function headText(s) {
  const lines = Object.keys(s.counts);
  const counted = lines.length ? s.counts[lines.sort()[0]] : null;
  if (counted == null && s.declared == null) return "";
  return `${counted ?? "–"} / ${s.declared ?? "–"}`;
}

const severityRank = { info: 0, warning: 1, critical: 2 };

function renderTile(stream) {
  const entry = state.tiles.get(stream);
  if (!entry) return;
  const s = streamSummary(stream);
  const badge = entry.tile.querySelector(".badge");
  const raised = [...s.alerts.values()].filter((a) => a.state !== "cleared");
  badge.hidden = raised.length === 0;
  badge.textContent = String(raised.length);
  const worst = raised.reduce((w, a) => Math.max(w, severityRank[a.severity] ?? 0), 0);
  badge.className = "badge " + ["info", "warning", "critical"][worst];
  entry.tile.querySelector(".head").textContent = headText(s);
}

async function loadGrid() {
  closeSockets();
  let response;
  try {
    response = await fetch("/api/v1/streams");
  } catch (e) {
    return retryLater(loadGrid);  // server unreachable: keep trying
  }
  if (response.status === 401) return signedOut("");
  const streams = await response.json();
  const grid = $("grid");
  grid.replaceChildren();
  state.tiles.clear();
  state.order = streams.map((s) => s.stream);
  for (const [i, s] of streams.entries()) {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.stream = s.stream;
    tile.tabIndex = 0;
    tile.innerHTML = `<img class="frame" alt=""><div class="caption"><span class="name"></span><span class="online"></span><span class="badge" hidden></span><span class="head"></span><span class="info"></span></div>`;
    tile.querySelector(".name").textContent = (i < 9 ? `${i + 1} · ` : "") + s.stream;
    const online = tile.querySelector(".online");
    online.textContent = t(s.online ? "online" : "offline");
    online.className = "online state " + (s.online ? "online" : "offline");
    tile.onclick = () => openSingle(s.stream);
    tile.onkeydown = (e) => { if (e.key === "Enter") openSingle(s.stream); };
    grid.appendChild(tile);
    state.tiles.set(s.stream, { tile, record: {}, frames: 0 });
    loadSummary(s.stream).then(() => renderTile(s.stream));
  }
  show("grid");
  if (streams.length === 0) { grid.textContent = t("noStreams"); return; }
  // A few large tiles get frames up to 640 wide; a wall of many small ones, 480 (a 720p frame comes at
  // 640 or 320: the server scales by 1/2, 1/4 or 1/8).
  liveSocket(state.order, { maxWidth: streams.length <= 4 ? 640 : 480 }, ({ header, payload }) => {
    const entry = state.tiles.get(header.stream);
    if (!entry) return;
    showImage(entry.tile.querySelector(".frame"), payload);
    entry.frames += 1;
    entry.tile.querySelector(".info").textContent = `${rate(entry.record)} fps · ${latencyMs(header)} ms`;
  }, (event) => {
    const entry = state.tiles.get(event.stream);
    if (!entry) return;
    if (event.event === "stream.online" || event.event === "stream.offline") {
      const online = entry.tile.querySelector(".online");
      const on = event.event === "stream.online";
      online.textContent = t(on ? "online" : "offline");
      online.className = "online state " + (on ? "online" : "offline");
    }
    if (applyEvent(event)) renderTile(event.stream);
  }, () => loadGrid());
}

// Desktop notification and sound for critical alerts: per user, off by default.
function settingKey(name) { return `herdlens.${name}.${state.me ? state.me.id : "anon"}`; }

function loadSettings() {
  $("notify").checked = localStorage.getItem(settingKey("notify")) === "on";
  $("sound").checked = localStorage.getItem(settingKey("sound")) === "on";
}

$("notify").onchange = async (e) => {
  let on = e.target.checked;
  if (on && "Notification" in window && Notification.permission !== "granted") {
    on = (await Notification.requestPermission()) === "granted";
  }
  e.target.checked = on;
  localStorage.setItem(settingKey("notify"), on ? "on" : "off");
};
$("sound").onchange = (e) => localStorage.setItem(settingKey("sound"), e.target.checked ? "on" : "off");

function beep() {
  const AudioContext = window.AudioContext || window.webkitAudioContext;
  if (!AudioContext) return;
  if (!state.audio) state.audio = new AudioContext();
  const ctx = state.audio, osc = ctx.createOscillator(), gain = ctx.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.2, ctx.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.6);
  osc.connect(gain).connect(ctx.destination);
  osc.start();
  osc.stop(ctx.currentTime + 0.6);
}

function notifyCritical(event) {
  if (event.event !== "alert" || !event.detail || event.detail.severity !== "critical") return;
  state.notified = state.notified || new Set();
  const key = event.detail.id + ":" + event.detail.repeats;
  if (state.notified.has(key)) return;
  state.notified.add(key);
  state.lastCritical = event.detail;
  const text = alertText(event.detail);
  if ($("notify").checked && "Notification" in window && Notification.permission === "granted") {
    new Notification(`HerdLens · ${event.stream}`, { body: text, tag: event.detail.id });
  }
  if ($("sound").checked) beep();
}

// An alert's message in the page's language.
function alertText(alert) {
  const m = alert.message || {};
  const language = currentLanguage();
  return (language === "zh-Hant" ? m["zh-Hant"] : language === "zh-Hans" ? m["zh-Hans"] : m.en) || m.en || alert.rule;
}

$("signin").onsubmit = async (e) => {
  e.preventDefault();
  const response = await fetch("/api/v1/session", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: $("token").value.trim() }),
  });
  $("token").value = "";
  $("signin-error").textContent = "";
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $("signin-error").textContent = (body.error && body.error.message) || "sign-in failed";
    return;
  }
  await start();
};

$("signout").onclick = async () => { closeSockets(); closeReplay(); await fetch("/api/v1/session", { method: "DELETE" }); show("signin"); };
$("back").onclick = () => loadGrid();

async function start() {
  const who = await whoAmI().catch(() => null);
  if (!who) return show("signin");
  state.me = who;
  state.role = who.role;
  $("who").textContent = `${who.name} (${who.role})`;
  loadSettings();
  // Auditors replay and export recordings; they never watch live.
  if (who.role === "auditor") return openRecordings();
  await loadGrid();
}

document.addEventListener("herdlens:language", () => {
  const el = $("connection");
  if (el.dataset.state) el.textContent = t(el.dataset.state);
  for (const stream of state.tiles.keys()) renderTile(stream);
});

start();
