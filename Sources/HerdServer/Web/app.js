// HerdLens web viewer: sign in (token -> HttpOnly session cookie), a grid of the streams this user may
// see, and a single-stream view with HUD, alerts, connection state, fps and latency. No dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { sockets: [], tiles: new Map(), single: null, alerts: [] };

function show(view) {
  for (const id of ["signin", "grid", "single", "recordings", "player"]) $(id).hidden = id !== view;
  $("back").hidden = !(view === "single" || ((view === "recordings" || view === "player") && state.role !== "auditor"));
  $("signout").hidden = view === "signin";
  $("recordings-button").hidden = view === "signin" || view === "recordings";
}

function setConnection(text) {
  const el = $("connection");
  el.textContent = text;
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

// A live socket that dropped without us closing it: if the session is gone (token revoked or expired:
// close 1008; or signed out in another tab) back to sign-in, with the server's reason;
// otherwise (network, server briefly away) the same view reconnects with backoff, 1 s up to 15 s.
async function onDropped(event, reopen) {
  try {
    const me = await fetch("/api/v1/session");
    if (me.status === 401) return signedOut("Signed out: " + (event.code === 1008 && event.reason ? event.reason : "the session ended") + ".");
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
    if (typeof message.data === "string") onEvent(JSON.parse(message.data));
    else onFrame(parseEnvelope(message.data));
  };
  state.sockets.push(ws);
  return ws;
}

function showImage(img, payload) {
  const url = URL.createObjectURL(new Blob([payload], { type: "image/jpeg" }));
  const previous = img.dataset.url;
  img.src = url;
  img.dataset.url = url;
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
  for (const s of streams) {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.stream = s.stream;
    tile.innerHTML = `<img class="frame" alt=""><div class="caption"><span class="name"></span><span class="info">${s.online ? "online" : "offline"}</span></div>`;
    tile.querySelector(".name").textContent = s.stream;
    tile.onclick = () => openSingle(s.stream);
    grid.appendChild(tile);
    state.tiles.set(s.stream, { tile, record: {} });
  }
  show("grid");
  if (streams.length === 0) { grid.textContent = "No streams you may watch yet."; return; }
  liveSocket(streams.map((s) => s.stream), { maxWidth: 640 }, ({ header, payload }) => {
    const entry = state.tiles.get(header.stream);
    if (!entry) return;
    showImage(entry.tile.querySelector(".frame"), payload);
    entry.tile.querySelector(".info").textContent = `${rate(entry.record)} fps · ${latencyMs(header)} ms · #${header.seq}`;
  }, (event) => {
    const entry = state.tiles.get(event.stream);
    if (entry && event.event && event.event.startsWith("stream.")) entry.tile.querySelector(".info").textContent = event.event.slice(7);
  }, () => loadGrid());
}

// `reconnecting`: the same view again after a dropped socket; the alert list is kept.
function openSingle(stream, reconnecting) {
  closeSockets();
  state.single = { stream, record: {} };
  $("single-stream").textContent = stream;
  if (!reconnecting) $("alerts").replaceChildren();
  show("single");
  liveSocket([stream], {}, ({ header, payload }) => {
    showImage($("single-frame"), payload);
    $("single-fps").textContent = rate(state.single.record);
    $("single-latency").textContent = latencyMs(header);
    $("single-seq").textContent = header.seq;
    const hud = (header.annotations || []).find((a) => a.kind === "hud");
    const dl = $("hud");
    dl.replaceChildren();
    for (const entry of hud ? hud.entries : []) {
      const dt = document.createElement("dt"); dt.textContent = entry.key;
      const dd = document.createElement("dd"); dd.textContent = entry.value;
      dl.append(dt, dd);
    }
  }, (event) => {
    if (event.event === "alert" && event.alert) {
      const li = document.createElement("li");
      li.className = event.alert.severity;
      li.textContent = `${new Date(event.at).toLocaleTimeString()} ${event.alert.severity.toUpperCase()} ${event.alert.message}`;
      $("alerts").prepend(li);
    }
  }, () => openSingle(stream, true));
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
  const me = await fetch("/api/v1/session");
  if (!me.ok) return show("signin");
  const who = await me.json();
  state.role = who.role;
  $("who").textContent = `${who.name} (${who.role})`;
  // Auditors replay and export recordings; they never watch live.
  if (who.role === "auditor") return openRecordings();
  await loadGrid();
}

start();
