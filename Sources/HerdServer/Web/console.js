// The inspector's console for one stream: the frame at a readable size with a drawing layer for marks
// (box, arrow, circle, text; snapped to the pig under the pointer, a mark follows its track), the HUD,
// the alert list (acknowledge with a click or K), the marks list, the crossing log (each entry opens
// the recording at its frame), the overlay and quality switches, keyboard shortcuts. Uses app.js.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const qualities = ["", "1280", "960", "640", "480"];
const live = { tool: null, drag: null, header: null, marks: new Map(), crossings: [], ws: null };
// For tests and the curious: the console's state (the last frame header, marks, counters).
window.herdConsole = live;

function openSingle(stream, reconnecting) {
  closeSockets();
  state.single = { stream, record: {} };
  live.stream = stream;
  $("single-stream").textContent = stream;
  if (!reconnecting) {
    live.header = null;
    live.marks = new Map();
    live.crossings = [];
    renderCrossings();
  }
  show("single");
  loadSummary(stream).then((s) => {
    for (const mark of s.marks || []) live.marks.set(mark.id, Object.assign(live.marks.get(mark.id) || {}, mark));
    renderAlerts();
    renderMarks();
    renderHead();
  });
  const options = {};
  if (!$("c-overlay").checked) options.overlay = false;
  if ($("c-quality").value) options.maxWidth = $("c-quality").value;
  live.ws = liveSocket([stream], options, onFrame, onEvent, () => openSingle(stream, true));
}

function sendLive(message) {
  if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify(message));
}

// Frame size the annotations' coordinates refer to (a scaled frame says so in sourceWidth).
function frameSize(header) {
  return { w: header.sourceWidth || header.width, h: header.sourceHeight || header.height };
}

function onFrame({ header, payload }) {
  showImage($("single-frame"), payload);
  live.header = header;
  $("single-fps").textContent = rate(state.single.record);
  $("single-latency").textContent = latencyMs(header);
  $("single-seq").textContent = header.seq;
  const { w, h } = frameSize(header);
  $("draw-layer").setAttribute("viewBox", `0 0 ${w} ${h}`);
  const hud = (header.annotations || []).find((a) => a.kind === "hud");
  const dl = $("hud");
  dl.replaceChildren();
  for (const entry of hud ? hud.entries : []) {
    const dt = document.createElement("dt"); dt.textContent = entry.key;
    const dd = document.createElement("dd"); dd.textContent = entry.value;
    dl.append(dt, dd);
  }
  // Marks as this frame carries them (an anchored mark has moved with its pig).
  const onFrame = new Set();
  for (const a of header.annotations || []) if (a.source === "inspector" && a.id) onFrame.add(a.id);
  for (const [id, mark] of live.marks) mark.onFrame = onFrame.has(id);
  renderMarks();
  drawLayer();
}

function onEvent(event) {
  if (applyEvent(event)) { renderAlerts(); renderHead(); }
  if (event.event === "mark" && event.mark) live.marks.set(event.mark.id, Object.assign(live.marks.get(event.mark.id) || {}, event.mark));
  else if (event.event === "mark.acknowledged" && event.mark) live.marks.set(event.mark.id, Object.assign(live.marks.get(event.mark.id) || {}, event.mark));
  else if (event.event === "mark.clear" && event.mark) live.marks.delete(event.mark.id);
  if (event.event && event.event.startsWith("mark")) drawLayer();
  else if (event.event === "crossing" && event.crossing) {
    live.crossings.unshift({ at: event.at, session: event.session, ...event.crossing });
    live.crossings = live.crossings.slice(0, 200);
    renderCrossings();
  } else if (event.type === "error") {
    $("tool-hint").textContent = `${event.code}: ${event.message}`;
    $("tool-hint").className = "error";
  }
  if (event.event && event.event.startsWith("mark")) renderMarks();
}

function renderHead() {
  if (!live.stream) return;
  const text = headText(streamSummary(live.stream));
  $("headcount").textContent = text ? `${text} ${t("declaredShort")}` : "–";
}

function renderAlerts() {
  if (!live.stream) return;
  const list = $("alerts");
  list.replaceChildren();
  const alerts = [...streamSummary(live.stream).alerts.values()].sort((a, b) => (b.raisedAt || "").localeCompare(a.raisedAt || ""));
  for (const alert of alerts) {
    const li = document.createElement("li");
    li.className = alert.severity;
    li.dataset.alert = alert.id;
    const text = document.createElement("span");
    text.textContent = `${new Date(alert.raisedAt).toLocaleTimeString()} ${t(alert.severity)} · ${alertText(alert)}`;
    li.appendChild(text);
    if (alert.acknowledged) {
      const by = document.createElement("span");
      by.className = "acked";
      by.textContent = ` ✓ ${alert.acknowledged.by}`;
      li.appendChild(by);
    } else {
      const button = document.createElement("button");
      button.className = "ack";
      button.textContent = t("acknowledge");
      button.onclick = () => sendLive({ type: "alert.ack", id: alert.id });
      li.appendChild(button);
    }
    list.appendChild(li);
  }
}

function renderMarks() {
  const list = $("marks");
  // Rebuilt only when something shown changed: a list rebuilt under the pointer would swallow clicks.
  const signature = currentLanguage() + JSON.stringify([...live.marks.values()].map((m) => [m.id, m.kind, m.text, m.by, !!m.acknowledged, !!m.onFrame, m.trackId]));
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren();
  for (const mark of live.marks.values()) {
    const li = document.createElement("li");
    li.dataset.mark = mark.id;
    const text = document.createElement("span");
    const track = mark.trackId ? ` #${mark.trackId}` : "";
    text.textContent = `${t("tool" + mark.kind[0].toUpperCase() + mark.kind.slice(1))}${track}${mark.text ? " “" + mark.text + "”" : ""} · ${mark.by || ""}`;
    li.appendChild(text);
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = (mark.acknowledged ? ` ✓ ${t("seenInField")}` : "") + (mark.onFrame ? "" : ` · ${t("notOnFrameYet")}`);
    li.appendChild(status);
    const clear = document.createElement("button");
    clear.className = "clear";
    clear.textContent = "✕";
    clear.title = t("clearMark");
    clear.onclick = () => sendLive({ type: "mark.clear", id: mark.id });
    li.appendChild(clear);
    list.appendChild(li);
  }
}

function renderCrossings() {
  const list = $("crossings");
  list.replaceChildren();
  for (const c of live.crossings) {
    const li = document.createElement("li");
    li.textContent = `${new Date(c.at).toLocaleTimeString()} ${c.line} ${c.direction === "in" ? "→ " + t("in") : "← " + t("out")} #${c.trackId} · seq ${c.seq}`;
    if (c.session) {
      li.className = "jump";
      li.title = t("openRecording");
      li.onclick = () => openPlayer(c.session, c.seq);
    }
    list.appendChild(li);
  }
}

// The drawing layer: what is being drawn now and, with the overlay off, the frame's annotations.
function drawLayer() {
  const svg = $("draw-layer");
  svg.replaceChildren();
  if (live.header && !live.header.overlay) for (const a of live.header.annotations || []) drawAnnotation(svg, a);
  // A mark heard of (event) but not on a frame yet is drawn here at once, dashed, until a frame carries it.
  for (const mark of live.marks.values()) if (!mark.onFrame) drawMark(svg, mark);
  if (live.drag) drawShape(svg, live.tool, live.drag.from, live.drag.to, "drawing");
}

function el(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function drawShape(svg, kind, [x0, y0], [x1, y1], cls) {
  if (kind === "box") svg.appendChild(el("rect", { x: Math.min(x0, x1), y: Math.min(y0, y1), width: Math.abs(x1 - x0), height: Math.abs(y1 - y0), class: cls }));
  else if (kind === "circle") svg.appendChild(el("circle", { cx: x0, cy: y0, r: Math.hypot(x1 - x0, y1 - y0), class: cls }));
  else if (kind === "arrow") {
    svg.appendChild(el("line", { x1: x0, y1: y0, x2: x1, y2: y1, class: cls }));
    const angle = Math.atan2(y1 - y0, x1 - x0), size = 18;
    const p = (a) => `${x1 - size * Math.cos(angle + a)},${y1 - size * Math.sin(angle + a)}`;
    svg.appendChild(el("polygon", { points: `${x1},${y1} ${p(0.45)} ${p(-0.45)}`, class: cls + " head" }));
  }
}

function drawMark(svg, mark) {
  const [p0, p1] = [mark.points[0], mark.points[1] || mark.points[0]];
  if (mark.kind === "text") {
    const text = el("text", { x: p0[0], y: p0[1], class: "pending label" });
    text.textContent = mark.text || "";
    svg.appendChild(text);
  } else if (mark.kind === "freehand") {
    svg.appendChild(el("polyline", { points: mark.points.map((p) => p.join(",")).join(" "), class: "pending" }));
  } else {
    drawShape(svg, mark.kind, p0, p1, "pending");
  }
}

function drawAnnotation(svg, a) {
  const cls = a.source === "inspector" ? "mark-shape" : "data-shape";
  if (a.kind === "box") drawShape(svg, "box", [a.rect.x, a.rect.y], [a.rect.x + a.rect.width, a.rect.y + a.rect.height], cls);
  else if (a.kind === "arrow") drawShape(svg, "arrow", a.from, a.to, cls);
  else if (a.kind === "point" && a.radius) drawShape(svg, "circle", a.at, [a.at[0] + a.radius, a.at[1]], cls);
  else if (a.kind === "polyline" || a.kind === "polygon") svg.appendChild(el(a.kind, { points: a.points.map((p) => p.join(",")).join(" "), class: cls }));
  else if (a.kind === "text") {
    const text = el("text", { x: a.at[0], y: a.at[1], class: cls + " label" });
    text.textContent = a.text;
    svg.appendChild(text);
  }
}

// Pointer position in frame pixels.
function framePoint(e) {
  const box = $("single-frame").getBoundingClientRect();
  if (!live.header || box.width === 0) return null;
  const { w, h } = frameSize(live.header);
  return [Math.round((e.clientX - box.left) * w / box.width), Math.round((e.clientY - box.top) * h / box.height)];
}

// The tracked pig under a point: the smallest box carrying a track id that holds it.
function pigAt([x, y]) {
  let best = null;
  for (const a of (live.header && live.header.annotations) || []) {
    if (a.kind !== "box" || !a.trackId || a.source === "inspector") continue;
    const r = a.rect;
    if (x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height && (!best || r.width * r.height < best.rect.width * best.rect.height)) best = a;
  }
  return best;
}

function setTool(tool) {
  live.tool = live.tool === tool ? null : tool;
  for (const b of document.querySelectorAll(".tool")) b.classList.toggle("active", b.dataset.tool === live.tool);
  $("stage").classList.toggle("drawing", !!live.tool);
  $("tool-hint").className = "";
  $("tool-hint").textContent = live.tool ? t("hint_" + live.tool) : "";
}

function placeMark(kind, points, pig) {
  const text = $("mark-text").value.trim();
  const mark = { type: "mark", stream: live.stream, kind, points };
  if (text) mark.text = text;
  if (live.header) mark.seq = live.header.seq;
  if (pig) mark.trackId = pig.trackId;
  if (kind === "text" && !text) { $("tool-hint").textContent = t("needText"); return; }
  sendLive(mark);
}

$("stage").addEventListener("pointerdown", (e) => {
  if (!live.tool) return;
  const p = framePoint(e);
  if (!p) return;
  e.preventDefault();
  const pig = $("snap").checked ? pigAt(p) : null;
  if (live.tool === "text") return placeMark("text", [p], pig);
  live.drag = { from: p, to: p, pig };
  $("stage").setPointerCapture(e.pointerId);
});
$("stage").addEventListener("pointermove", (e) => {
  if (!live.drag) return;
  const p = framePoint(e);
  if (p) { live.drag.to = p; drawLayer(); }
});
$("stage").addEventListener("pointerup", (e) => {
  const drag = live.drag;
  live.drag = null;
  drawLayer();
  if (!drag) return;
  const [x0, y0] = drag.from, [x1, y1] = drag.to;
  const moved = Math.hypot(x1 - x0, y1 - y0) >= 4;
  if (live.tool === "box" && !moved && drag.pig) {
    // A click on a pig with the box tool: a box around that pig, following it.
    const r = drag.pig.rect;
    return placeMark("box", [[r.x, r.y], [r.x + r.width, r.y + r.height]], drag.pig);
  }
  if (!moved) return;
  if (live.tool === "box" && (x0 === x1 || y0 === y1)) return;
  placeMark(live.tool, [drag.from, drag.to], drag.pig);
});

for (const button of document.querySelectorAll(".tool")) button.onclick = () => setTool(button.dataset.tool);

function applyOptions() {
  const maxWidth = $("c-quality").value;
  sendLive({ type: "options", overlay: $("c-overlay").checked, ...(maxWidth ? { maxWidth: Number(maxWidth) } : { maxWidth: 7680 }) });
}
$("c-overlay").onchange = applyOptions;
$("c-quality").onchange = applyOptions;

function acknowledgeNewest() {
  if (!live.stream) return;
  const open = [...streamSummary(live.stream).alerts.values()].filter((a) => !a.acknowledged && a.state !== "cleared")
    .sort((a, b) => (b.raisedAt || "").localeCompare(a.raisedAt || ""));
  if (open.length) sendLive({ type: "alert.ack", id: open[0].id });
}

function clearNewestMark() {
  const marks = [...live.marks.values()];
  if (marks.length) sendLive({ type: "mark.clear", id: marks[marks.length - 1].id });
}

$("help-button").onclick = () => { $("help").hidden = !$("help").hidden; };

document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "?") { $("help").hidden = !$("help").hidden; return; }
  if (e.key === "Escape") { $("help").hidden = true; if (live.tool) setTool(live.tool); return; }
  if (state.view === "grid") {
    const n = Number(e.key);
    if (n >= 1 && n <= 9 && state.order[n - 1]) openSingle(state.order[n - 1]);
    return;
  }
  if (state.view !== "single") return;
  const key = e.key.toLowerCase();
  const tools = { b: "box", r: "arrow", c: "circle", t: "text" };
  if (tools[key]) setTool(tools[key]);
  else if (key === "s") $("snap").checked = !$("snap").checked;
  else if (key === "k") acknowledgeNewest();
  else if (e.key === "Delete" || e.key === "Backspace") clearNewestMark();
  else if (key === "o") { $("c-overlay").checked = !$("c-overlay").checked; applyOptions(); }
  else if (key === "q") { $("c-quality").value = qualities[(qualities.indexOf($("c-quality").value) + 1) % qualities.length]; applyOptions(); }
  else if (key === "g") loadGrid();
  else return;
  e.preventDefault();
});

document.addEventListener("herdlens:language", () => {
  if (state.view !== "single") return;
  renderAlerts();
  renderMarks();
  renderCrossings();
  renderHead();
  if (live.tool) $("tool-hint").textContent = t("hint_" + live.tool);
});
