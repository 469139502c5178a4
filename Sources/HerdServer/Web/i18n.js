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
  const select = document.getElementById("language");
  if (select) select.value = language;
  document.dispatchEvent(new Event("herdlens:language"));
}

document.getElementById("language").onchange = (e) => {
  localStorage.setItem("herdlens.language", e.target.value);
  applyLanguage();
};
applyLanguage();
