// The auditor's page: recorded sessions with filters, and a player over the replay socket with a
// timeline (alerts, seq gaps, late frames), play, pause, speed, frame steps (keys too), seek by
// clicking, the overlay switch, the session summary, verify and export. Uses app.js's helpers.
"use strict";

const replay = { ws: null, info: null, session: null, position: null, state: "paused" };

function closeReplay() {
  if (replay.ws) { replay.ws.intended = true; replay.ws.close(1000); }
  replay.ws = null;
}

function localInputToRFC3339(value) {
  return value ? new Date(value).toISOString() : null;
}

async function openRecordings() {
  closeSockets();
  closeReplay();
  show("recordings");
  await searchSessions();
}

async function searchSessions() {
  const params = new URLSearchParams();
  for (const [id, name] of [["f-stream", "stream"], ["f-consignment", "consignment"], ["f-plate", "plate"]]) {
    const v = $(id).value.trim();
    if (v) params.set(name, v);
  }
  for (const [id, name] of [["f-from", "from"], ["f-to", "to"]]) {
    const v = localInputToRFC3339($(id).value);
    if (v) params.set(name, v);
  }
  const response = await fetch("/api/v1/sessions?" + params.toString());
  if (response.status === 401) return signedOut("");
  const body = await response.json().catch(() => ({ sessions: [] }));
  const tbody = $("sessions").querySelector("tbody");
  tbody.replaceChildren();
  for (const s of body.sessions || []) {
    const tr = document.createElement("tr");
    tr.dataset.session = s.id;
    for (const text of [s.id, s.stream, new Date(s.startedAt).toLocaleString(), String(s.frames),
      (s.consignment && s.consignment.id) || "", (s.consignment && s.consignment.vehiclePlate) || ""]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    tr.onclick = () => openPlayer(s.id);
    tbody.appendChild(tr);
  }
  $("sessions-empty").hidden = (body.sessions || []).length > 0;
}

$("filters").onsubmit = (e) => { e.preventDefault(); searchSessions(); };
$("recordings-button").onclick = () => openRecordings();

// `seq`: open at that frame (the console's crossing log jumps to a crossing's frame).
async function openPlayer(id, seq) {
  closeSockets();
  closeReplay();
  replay.session = id;
  replay.pendingSeek = seq;
  replay.info = null;
  replay.position = null;
  $("p-badge").textContent = "";
  $("p-badge").className = "badge";
  $("p-export-bundle").href = `/api/v1/sessions/${encodeURIComponent(id)}/export?format=bundle`;
  $("p-export-mcap").href = `/api/v1/sessions/${encodeURIComponent(id)}/export?format=mcap`;
  show("player");
  const summary = await (await fetch(`/api/v1/sessions/${encodeURIComponent(id)}`)).json().catch(() => ({}));
  renderSummary(summary);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const overlay = $("p-overlay").checked;
  const ws = new WebSocket(`${scheme}://${location.host}/api/v1/sessions/${encodeURIComponent(id)}/replay?overlay=${overlay}`);
  ws.binaryType = "arraybuffer";
  replay.ws = ws;
  setConnection("connecting");
  ws.onopen = () => setConnection("online");
  ws.onclose = () => { if (!ws.intended) setConnection("offline"); };
  ws.onmessage = (message) => {
    if (typeof message.data !== "string") {
      const { header, payload } = parseEnvelope(message.data);
      showImage($("replay-frame"), payload);
      $("replay-frame").dataset.seq = header.seq;
      $("replay-frame").dataset.overlay = header.overlay;
      replay.position = header;
      renderPosition();
      return;
    }
    const m = JSON.parse(message.data);
    if (m.type === "replay.session") {
      replay.info = m;
      renderTimeline();
      if (replay.pendingSeek != null) { send({ type: "seek", seq: replay.pendingSeek }); replay.pendingSeek = null; }
    }
    else if (m.type === "replay.state") { replay.state = m.state; renderPosition(); }
    else if (m.type === "error") $("p-position").title = m.message;
  };
}

function send(command) {
  if (replay.ws && replay.ws.readyState === WebSocket.OPEN) replay.ws.send(JSON.stringify(command));
}

function renderSummary(s) {
  const dl = $("p-summary");
  dl.replaceChildren();
  const c = s.consignment || {};
  const rows = [
    [t("session"), s.id], [t("stream"), s.stream], [t("started"), s.startedAt && new Date(s.startedAt).toLocaleString()],
    [t("ended_at"), s.endedAt ? new Date(s.endedAt).toLocaleString() : t("open")], [t("frames"), s.frames],
    [t("lateFrames"), s.lateFrames], [t("missing"), s.gaps && s.gaps.missing], [t("refused"), s.refused], [t("alerts"), s.alerts],
    [t("consignment"), c.id], [t("plate"), c.vehiclePlate], [t("farm"), c.farm], [t("declared"), c.declaredHeadCount],
    [t("hold"), s.hold ? t("yes") : t("no")],
  ];
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === "") continue;
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = String(v);
    dl.append(dt, dd);
  }
  replay.summary = s;
}

function timeRange() {
  const info = replay.info;
  if (!info || !info.firstCapturedAt) return null;
  const t0 = Date.parse(info.firstCapturedAt), t1 = Date.parse(info.lastCapturedAt);
  return { t0, t1: Math.max(t1, t0 + 1) };
}

function renderTimeline() {
  const marks = $("timeline-marks");
  marks.replaceChildren();
  const range = timeRange();
  if (!range) return;
  const place = (at, kind) => {
    const el = document.createElement("span");
    el.className = "mark " + kind;
    el.style.left = (100 * (Date.parse(at) - range.t0) / (range.t1 - range.t0)) + "%";
    marks.appendChild(el);
  };
  for (const m of replay.info.alerts || []) place(m.capturedAt, "alert");
  for (const m of replay.info.late || []) place(m.capturedAt, "late");
  // A gap sits between the frames around it: placed by seq over the session's seq span.
  const lo = replay.info.firstSeq, hi = replay.info.lastSeq;
  for (const [from, to] of replay.info.gaps || []) {
    const el = document.createElement("span");
    el.className = "mark gap";
    el.style.left = (100 * ((from + to) / 2 - lo) / Math.max(1, hi - lo)) + "%";
    marks.appendChild(el);
  }
}

function renderPosition() {
  const p = replay.position;
  $("p-state").textContent = t(replay.state);
  $("p-state").className = "state " + (replay.state === "playing" ? "online" : "connecting");
  if (!p) return;
  $("p-position").textContent = `#${p.seq} · ${new Date(p.capturedAt).toLocaleTimeString()} · ${(p.index ?? 0) + 1}/${replay.info ? replay.info.frames : "?"}`;
  const range = timeRange();
  if (range) $("timeline-cursor").style.left = (100 * (Date.parse(p.capturedAt) - range.t0) / (range.t1 - range.t0)) + "%";
}

$("timeline").onclick = (e) => {
  const range = timeRange();
  if (!range) return;
  const box = $("timeline").getBoundingClientRect();
  const fraction = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
  send({ type: "seek", to: new Date(range.t0 + fraction * (range.t1 - range.t0)).toISOString() });
};
$("p-play").onclick = () => send({ type: "play", speed: Number($("p-speed").value) });
$("p-pause").onclick = () => send({ type: "pause" });
$("p-speed").onchange = () => { if (replay.state === "playing") send({ type: "play", speed: Number($("p-speed").value) }); };
$("p-back").onclick = () => send({ type: "step", frames: -1 });
$("p-forward").onclick = () => send({ type: "step", frames: 1 });
$("p-overlay").onchange = () => send({ type: "overlay", on: $("p-overlay").checked });
$("p-verify").onclick = async () => {
  const badge = $("p-badge");
  badge.className = "badge";
  badge.textContent = t("verifying");
  const report = await (await fetch(`/api/v1/sessions/${encodeURIComponent(replay.session)}/verify`)).json().catch(() => null);
  if (report && report.ok) {
    badge.className = "badge ok";
    badge.textContent = `${t("verified")} · ${report.records} · ${report.keyIds.join(",")}`;
  } else {
    const f = report && report.failure;
    badge.className = "badge bad";
    badge.textContent = `${t("failed")}: ${f ? `${f.problem} @ ${f.record}: ${f.detail}` : "?"}`;
  }
};

document.addEventListener("keydown", (e) => {
  if ($("player").hidden || e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
  if (e.key === " ") { e.preventDefault(); send(replay.state === "playing" ? { type: "pause" } : { type: "play", speed: Number($("p-speed").value) }); }
  else if (e.key === "ArrowRight") { e.preventDefault(); send({ type: "step", frames: e.shiftKey ? 10 : 1 }); }
  else if (e.key === "ArrowLeft") { e.preventDefault(); send({ type: "step", frames: e.shiftKey ? -10 : -1 }); }
});
document.addEventListener("herdlens:language", () => {
  if (!$("player").hidden) { renderPosition(); if (replay.summary) renderSummary(replay.summary); }
});
