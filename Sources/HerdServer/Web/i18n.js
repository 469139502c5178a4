// Labels in English, Traditional and Simplified Chinese. Elements carry data-i18n="key"; the choice is
// kept in localStorage. No dependencies.
"use strict";

const I18N = {
  en: {
    allStreams: "All streams", recordings: "Recordings", signOut: "Sign out", signIn: "Sign in",
    signInHelp: "Paste your inspector or auditor token. It is exchanged for a session cookie and never stored by this page.",
    stream: "Stream", from: "From", to: "To", consignment: "Consignment", plate: "Plate", search: "Search", session: "Session",
    started: "Started", frames: "Frames", noSessions: "No recorded sessions match.", stepBack: "◀ 1", play: "Play", pause: "Pause",
    stepForward: "1 ▶", speed: "Speed", overlay: "Overlay", position: "Position",
    keysHelp: "Keys: Space play/pause · ← → one frame · Shift+← → ten frames", summary: "Session", integrity: "Integrity",
    verify: "Verify", export: "Export", exportBundle: "Evidence bundle (ZIP)", exportMcap: "MCAP (Foxglove)", legend: "Timeline",
    alerts: "Alerts", gaps: "Seq gaps", late: "Late frames", playing: "playing", paused: "paused", ended: "ended",
    verified: "verified", verifying: "verifying…", failed: "FAILED", ended_at: "Ended", open: "open", declared: "Declared head",
    farm: "Farm", lateFrames: "Late frames", refused: "Refused", hold: "Legal hold", yes: "yes", no: "no", missing: "Missing seqs",
    tools: "Mark", toolBox: "Box", toolArrow: "Arrow", toolCircle: "Circle", toolText: "Text", toolFreehand: "Freehand",
    markTextHint: "label or text", snap: "Snap to pig", quality: "Quality", latency: "latency", head: "Head count",
    marks: "Marks", crossings: "Crossings", notify: "Desktop alerts", sound: "Sound", shortcuts: "Keyboard shortcuts",
    keyTools: "Box, arrow, circle or text mark (again, or Esc: stop marking)",
    keySnap: "Snap marks to the pig under the pointer (they follow its track)", keyClear: "Clear the newest mark",
    keyAck: "Acknowledge the newest unacknowledged alert", keyView: "Overlay on or off · next quality",
    keyGrid: "All streams · open stream 1…9 of the grid", keyHelp: "This help", online: "online", offline: "offline",
    connecting: "connecting", reconnecting: "reconnecting", noStreams: "No streams you may watch yet.", declaredShort: "counted / declared",
    acknowledge: "Acknowledge", info: "INFO", warning: "WARNING", critical: "CRITICAL", seenInField: "seen in the field",
    notOnFrameYet: "not on a frame yet", clearMark: "Clear this mark", in: "in", out: "out", openRecording: "Open the recording at this frame",
    hint_box: "Drag a box, or click a pig", hint_arrow: "Drag from tail to head", hint_circle: "Drag from the centre out",
    hint_text: "Click where the text goes", needText: "Type the text first",
  },
  "zh-Hant": {
    allStreams: "所有串流", recordings: "錄影記錄", signOut: "登出", signIn: "登入",
    signInHelp: "貼上檢驗員或稽核員權杖。權杖會換成工作階段 Cookie，本頁不會儲存。",
    stream: "串流", from: "由", to: "至", consignment: "貨物批次", plate: "車牌", search: "搜尋", session: "記錄",
    started: "開始", frames: "影格", noSessions: "沒有符合的錄影記錄。", stepBack: "◀ 1", play: "播放", pause: "暫停",
    stepForward: "1 ▶", speed: "速度", overlay: "疊加標註", position: "位置",
    keysHelp: "按鍵：空白鍵 播放／暫停 · ← → 一格 · Shift+← → 十格", summary: "記錄摘要", integrity: "完整性",
    verify: "驗證", export: "匯出", exportBundle: "證據包（ZIP）", exportMcap: "MCAP（Foxglove）", legend: "時間軸",
    alerts: "警報", gaps: "序號缺漏", late: "延遲影格", playing: "播放中", paused: "已暫停", ended: "已結束",
    verified: "已驗證", verifying: "驗證中…", failed: "驗證失敗", ended_at: "結束", open: "進行中", declared: "申報頭數",
    farm: "農場", lateFrames: "延遲影格", refused: "拒收", hold: "法律保留", yes: "是", no: "否", missing: "缺漏序號",
    tools: "標記", toolBox: "方框", toolArrow: "箭頭", toolCircle: "圓圈", toolText: "文字", toolFreehand: "手繪",
    markTextHint: "標籤或文字", snap: "吸附到豬隻", quality: "畫質", latency: "延遲", head: "頭數",
    marks: "標記", crossings: "通過記錄", notify: "桌面通知", sound: "聲音", shortcuts: "鍵盤快捷鍵",
    keyTools: "方框、箭頭、圓圈或文字標記（再按一次或按 Esc 停止）",
    keySnap: "標記吸附到指標下的豬隻（隨其軌跡移動）", keyClear: "清除最新的標記",
    keyAck: "確認最新未確認的警報", keyView: "開關疊加標註 · 切換畫質",
    keyGrid: "所有串流 · 開啟第 1…9 個串流", keyHelp: "本說明", online: "在線", offline: "離線",
    connecting: "連線中", reconnecting: "重新連線中", noStreams: "暫時沒有可觀看的串流。", declaredShort: "已點算／申報",
    acknowledge: "確認", info: "資訊", warning: "警告", critical: "嚴重", seenInField: "現場已看到",
    notOnFrameYet: "尚未出現在影格", clearMark: "清除此標記", in: "入", out: "出", openRecording: "在此影格開啟錄影",
    hint_box: "拖曳方框，或點選豬隻", hint_arrow: "由尾拖到頭", hint_circle: "由中心向外拖曳",
    hint_text: "點選文字位置", needText: "請先輸入文字",
  },
  "zh-Hans": {
    allStreams: "所有视频流", recordings: "录像记录", signOut: "退出", signIn: "登录",
    signInHelp: "粘贴检验员或审计员令牌。令牌会换成会话 Cookie，本页不会保存。",
    stream: "视频流", from: "从", to: "至", consignment: "货物批次", plate: "车牌", search: "搜索", session: "记录",
    started: "开始", frames: "帧", noSessions: "没有符合的录像记录。", stepBack: "◀ 1", play: "播放", pause: "暂停",
    stepForward: "1 ▶", speed: "速度", overlay: "叠加标注", position: "位置",
    keysHelp: "按键：空格 播放／暂停 · ← → 一帧 · Shift+← → 十帧", summary: "记录摘要", integrity: "完整性",
    verify: "验证", export: "导出", exportBundle: "证据包（ZIP）", exportMcap: "MCAP（Foxglove）", legend: "时间轴",
    alerts: "警报", gaps: "序号缺失", late: "延迟帧", playing: "播放中", paused: "已暂停", ended: "已结束",
    verified: "已验证", verifying: "验证中…", failed: "验证失败", ended_at: "结束", open: "进行中", declared: "申报头数",
    farm: "农场", lateFrames: "延迟帧", refused: "拒收", hold: "法律保留", yes: "是", no: "否", missing: "缺失序号",
    tools: "标记", toolBox: "方框", toolArrow: "箭头", toolCircle: "圆圈", toolText: "文字", toolFreehand: "手绘",
    markTextHint: "标签或文字", snap: "吸附到猪只", quality: "画质", latency: "延迟", head: "头数",
    marks: "标记", crossings: "通过记录", notify: "桌面通知", sound: "声音", shortcuts: "键盘快捷键",
    keyTools: "方框、箭头、圆圈或文字标记（再按一次或按 Esc 停止）",
    keySnap: "标记吸附到指针下的猪只（随其轨迹移动）", keyClear: "清除最新的标记",
    keyAck: "确认最新未确认的警报", keyView: "开关叠加标注 · 切换画质",
    keyGrid: "所有视频流 · 打开第 1…9 个视频流", keyHelp: "本说明", online: "在线", offline: "离线",
    connecting: "连接中", reconnecting: "重新连接中", noStreams: "暂时没有可观看的视频流。", declaredShort: "已清点／申报",
    acknowledge: "确认", info: "信息", warning: "警告", critical: "严重", seenInField: "现场已看到",
    notOnFrameYet: "尚未出现在帧中", clearMark: "清除此标记", in: "入", out: "出", openRecording: "在此帧打开录像",
    hint_box: "拖动方框，或点击猪只", hint_arrow: "由尾拖到头", hint_circle: "由中心向外拖动",
    hint_text: "点击文字位置", needText: "请先输入文字",
  },
};

function currentLanguage() {
  const saved = localStorage.getItem("herdlens.language");
  return I18N[saved] ? saved : "en";
}

/// The label for `key` in the current language (English, then the key, when missing).
function t(key) {
  return I18N[currentLanguage()][key] || I18N.en[key] || key;
}

function applyLanguage() {
  const language = currentLanguage();
  document.documentElement.lang = language;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  const select = document.getElementById("language");
  if (select) select.value = language;
  document.dispatchEvent(new Event("herdlens:language"));
}

document.getElementById("language").onchange = (e) => {
  localStorage.setItem("herdlens.language", e.target.value);
  applyLanguage();
};
applyLanguage();
