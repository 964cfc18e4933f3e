// The sensors page: devices on a map coloured by their state, a chosen device's latest values
// and a chart of one property against its rules' thresholds, and the alarms with what this
// person may do to them. Alarm frames from /api/v1/ws recolour the map and update the list at
// once; the chosen device's values are read again every 15 s. Everything goes through /api/v1.

import { Live, api, formatTime, logIn, token, whenUnauthorized, words } from "./common.js";

const TEXT = {
  zh: {
    title: "物联感知", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", online: "在线", offline: "离线", lang: "English", bad_login: "用户名或密码错误",
    nav_console: "调度台", nav_video: "视频监控", nav_onemap: "一张图", nav_enforcement: "执法工作台", devices: "设备", pick_device: "选择设备…", device_count: "{n} 台设备",
    no_device: "在地图上点选设备，查看读数、曲线和告警", latest: "最新读数",
    range_1h: "近1小时", range_24h: "近1天", range_7d: "近1周", no_readings: "该时段无读数",
    alarms: "告警", count: "共 {n} 条", no_alarms: "没有符合条件的告警",
    state_open: "未解除", state_active: "未确认", state_acknowledged: "已确认", state_cleared: "已解除",
    all_severities: "全部级别", at_least_warning: "提示及以上", at_least_minor: "一般及以上",
    at_least_major: "较重及以上", at_least_critical: "严重", all_kinds: "全部类型",
    kind_alarm: "告警", kind_fault: "故障", severity: "级别", device: "设备", message: "内容",
    raised_at: "发生时间", state: "状态", case: "案件", acknowledge: "确认", clear: "解除",
    clear_note: "解除说明（如：现场检测正常）", confirm: "确定", cancel: "取消", failed: "操作失败",
    type: "类型", status: "状态", last_seen: "最近上报", grid: "网格", address: "地址",
    open_alarms: "未解除告警", average: "平均", lowest: "最低", highest: "最高", faulty: "故障读数",
    clear_level: "解除", s_normal: "正常", s_warning: "提示", s_minor: "一般", s_major: "较重",
    s_critical: "严重", s_fault: "传感器故障", s_stale: "迟报", s_offline: "离线", s_never: "未上报",
    st_online: "在线", st_stale: "迟报", st_offline: "离线", st_never: "未上报",
  },
  en: {
    title: "Sensors", login: "Log in", username: "Username", password: "Password", sign_in: "Log in",
    logout: "Log out", online: "Online", offline: "Offline", lang: "中文",
    bad_login: "Wrong username or password", nav_console: "Console", nav_video: "Video", nav_onemap: "One map", nav_enforcement: "Enforcement", devices: "Devices",
    pick_device: "Choose a device…", device_count: "{n} devices",
    no_device: "Pick a device on the map to see its readings, chart and alarms", latest: "Latest readings",
    range_1h: "Last hour", range_24h: "Last day", range_7d: "Last week", no_readings: "No readings in this period",
    alarms: "Alarms", count: "{n} in all", no_alarms: "No alarms match",
    state_open: "Open", state_active: "Active", state_acknowledged: "Acknowledged", state_cleared: "Cleared",
    all_severities: "All severities", at_least_warning: "Warning and above", at_least_minor: "Minor and above",
    at_least_major: "Major and above", at_least_critical: "Critical", all_kinds: "All kinds",
    kind_alarm: "Alarm", kind_fault: "Fault", severity: "Severity", device: "Device", message: "Message",
    raised_at: "Raised", state: "State", case: "Case", acknowledge: "Acknowledge", clear: "Clear",
    clear_note: "Why it is cleared (e.g. checked on site: normal)", confirm: "Confirm", cancel: "Cancel",
    failed: "Action failed", type: "Type", status: "Status", last_seen: "Last report", grid: "Grid",
    address: "Address", open_alarms: "Open alarms", average: "Average", lowest: "Lowest", highest: "Highest",
    faulty: "Faulty readings", clear_level: "Clear", s_normal: "Normal", s_warning: "Warning",
    s_minor: "Minor", s_major: "Major", s_critical: "Critical", s_fault: "Sensor fault", s_stale: "Late",
    s_offline: "Offline", s_never: "Never reported", st_online: "Online", st_stale: "Late",
    st_offline: "Offline", st_never: "Never reported",
  },
};

const SEVERITIES = ["warning", "minor", "major", "critical"];
// A device's colour: its worst open alarm (the place is in trouble) before a fault (the sensor
// is), before how long it has been silent.
const COLOURS = {
  normal: "#1f9d55", warning: "#d69e2e", minor: "#dd6b20", major: "#c53030", critical: "#742a2a",
  fault: "#805ad5", stale: "#63b3ed", offline: "#6b7280", never: "#ffffff",
};
const LEGEND = ["normal", "warning", "minor", "major", "critical", "fault", "stale", "offline", "never"];
const RANGES = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };
const REFRESH_MS = 15000;
// The map's statuses change over minutes (and alarm frames recolour it at once): every fourth
// refresh is enough.
const MAP_EVERY = 4;
const ALARM_LIMIT = 200;
const ALARM_ROLES = new Set((document.documentElement.dataset.alarmRoles || "").split(" ").filter(Boolean));

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const $ = (selector, root = document) => root.querySelector(selector);

let me = null;
let live = null;
let map = null;
let legend = null;
let chart = null;
let fitted = false;
const devices = new Map(); // id → the device as the map shows it (DeviceMarker)
const shapes = new Map(); // id → its Leaflet circle marker
let selectedId = null;
let selected = null; // the chosen device in full (DeviceRead)
let range = "1h";
let alarms = []; // the alarm list, in the API's order
let alarmTotal = 0;
let clearing = null; // the alarm whose clear form is open, and what is typed in it
let clearNote = "";
let ticks = 0;

// Answers overlap with each other and with frames: an older answer must not overwrite a newer
// one. Each kind of request counts its askings; an answer that is not the last asked is
// dropped, and what a frame changed after a request was sent wins over that request's answer.
let markersAsked = 0;
let alarmsAsked = 0;
let deviceAsked = 0;
let seriesAsked = 0;
const deviceTouched = new Map(); // device id → markersAsked when a frame last recoloured it
const alarmTouched = new Map(); // alarm id → { asked: alarmsAsked when a frame brought it, alarm }

const mayWork = () => Boolean(me?.roles.some((role) => ALARM_ROLES.has(role)));
const severityRank = (name) => SEVERITIES.indexOf(name) + 1;

function stateOf(d) {
  if (d.alarm_severity) return d.alarm_severity;
  if (d.fault) return "fault";
  return d.status === "online" ? "normal" : d.status;
}

// -- session ----------------------------------------------------------------------------

function showLogin() {
  live?.close();
  live = null;
  me = null;
  token.clear();
  $("#login").hidden = false;
  $("#board").hidden = true;
  $("#logout").hidden = true;
}
whenUnauthorized(showLogin);

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#board").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  startMap();
  live = new Live({
    personId: me.id,
    onStatus: setOnline,
    onUnauthorized: showLogin,
    // After each (re)connection: an alarm frame missed while away is not sent again.
    onHello: () => Promise.all([loadMarkers(), loadAlarms(), selectedId ? refreshDevice() : null]),
    onFrame: (frame) => received(frame),
  });
  live.connect();
}

function setOnline(online) {
  const status = $("#status");
  status.textContent = t(online ? "online" : "offline");
  status.className = `status ${online ? "online" : "offline"}`;
}

// -- the map ------------------------------------------------------------------------------

function startMap() {
  if (map) return;
  map = L.map("device-map", { attributionControl: false }).setView([29.56, 106.57], 15);
  const tiles = document.documentElement.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  legend = L.control({ position: "bottomright" });
  legend.onAdd = () => L.DomUtil.create("div", "legend");
  legend.addTo(map);
  renderLegend();
}

function renderLegend() {
  const box = legend?.getContainer();
  if (!box) return;
  box.replaceChildren(...LEGEND.map((state) => {
    const row = document.createElement("div");
    row.dataset.state = state;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    paint(swatch, state);
    row.append(swatch, t(`s_${state}`));
    return row;
  }));
}

function paint(element, state) {
  element.style.background = COLOURS[state];
  element.style.borderColor = state === "never" ? COLOURS.offline : COLOURS[state];
}

async function loadMarkers() {
  const asked = ++markersAsked;
  const list = await api("/devices/map");
  if (asked !== markersAsked) return;
  const seen = new Set();
  for (const d of list) {
    seen.add(d.id);
    const known = devices.get(d.id);
    if (known && (deviceTouched.get(d.id) ?? 0) >= asked) {
      // A frame came after this request was sent: its alarms are newer than the answer's.
      const { open_alarms: n, alarm_severity: severity, fault } = known;
      Object.assign(known, d, { open_alarms: n, alarm_severity: severity, fault });
    } else {
      devices.set(d.id, d);
    }
    placeMarker(devices.get(d.id));
  }
  for (const id of [...devices.keys()]) {
    if (seen.has(id)) continue;
    devices.delete(id);
    shapes.get(id)?.remove();
    shapes.delete(id);
  }
  renderPicker();
  if (!fitted && shapes.size) {
    fitted = true;
    map.fitBounds(L.featureGroup([...shapes.values()]).getBounds(), { padding: [30, 30], maxZoom: 17 });
  }
}

let markersTimer = null;
function loadMarkersSoon() {
  clearTimeout(markersTimer);
  markersTimer = setTimeout(() => loadMarkers().catch(() => {}), 300);
}

function placeMarker(d) {
  let shape = shapes.get(d.id);
  if (d.lon == null || d.lat == null) {
    shape?.remove();
    shapes.delete(d.id);
    return;
  }
  const state = stateOf(d);
  const chosen = d.id === selectedId;
  const style = {
    radius: chosen ? 11 : 8, weight: chosen ? 3 : 2, fillOpacity: 0.85, fillColor: COLOURS[state],
    color: chosen ? "#111" : state === "never" ? COLOURS.offline : COLOURS[state],
  };
  if (!shape) {
    shape = L.circleMarker([d.lat, d.lon], { ...style, className: "device-marker" }).addTo(map);
    shape.on("click", () => selectDevice(d.id));
    shapes.set(d.id, shape);
  } else {
    shape.setLatLng([d.lat, d.lon]);
    shape.setStyle(style);
  }
  shape.bindTooltip(`${d.name} · ${t(`s_${state}`)}`);
  const element = shape.getElement();
  element.dataset.deviceId = d.id;
  element.dataset.state = state;
  if (chosen) shape.bringToFront();
}

function renderPicker() {
  const pick = $("#device-pick");
  const ordered = [...devices.values()].sort((a, b) => a.code.localeCompare(b.code));
  pick.replaceChildren(new Option(t("pick_device"), ""), ...ordered.map((d) => new Option(`${d.code} ${d.name}`, String(d.id))));
  pick.value = selectedId ? String(selectedId) : "";
  $("#device-count").textContent = t("device_count", { n: devices.size });
}

// -- the chosen device --------------------------------------------------------------------

async function selectDevice(id) {
  const before = selectedId;
  selectedId = id;
  $("#device").dataset.deviceId = id;
  $("#no-device").hidden = true;
  $("#device-body").hidden = false;
  $("#device-pick").value = String(id);
  for (const other of [before, id]) if (other && devices.has(other)) placeMarker(devices.get(other));
  for (const tr of document.querySelectorAll("#alarm-rows tr[data-device-id]")) {
    tr.classList.toggle("open", Number(tr.dataset.deviceId) === id);
  }
  if (before !== id) {
    selected = null;
    $("#chart-property").replaceChildren();
  }
  await loadDevice();
  await loadSeries();
}

async function refreshDevice() {
  await loadDevice();
  if (range !== "7d") await loadSeries(); // a week's chart barely moves in 15 s
}

let deviceTimer = null;
function refreshDeviceSoon() {
  clearTimeout(deviceTimer);
  deviceTimer = setTimeout(() => refreshDevice().catch(() => {}), 300);
}

async function loadDevice() {
  const id = selectedId;
  const asked = ++deviceAsked;
  const d = await api(`/devices/${id}`);
  if (asked !== deviceAsked || id !== selectedId) return;
  selected = d;
  renderDevice();
}

function renderDevice() {
  const d = selected;
  if (!d) return;
  const pane = $("#device");
  const marker = devices.get(d.id);
  const state = stateOf(marker ? { ...marker, status: d.status } : { status: d.status });
  pane.dataset.state = state;
  paint($(".dot", pane), state);
  $(".dot", pane).title = t(`s_${state}`);
  $(".name", pane).textContent = d.name;
  $(".code", pane).textContent = d.code;
  const facts = [
    ["type", d.device_type_name],
    ["status", `${t(`st_${d.status}`)}${state !== "normal" && state !== d.status ? ` · ${t(`s_${state}`)}` : ""}`],
    ["last_seen", formatTime(d.last_seen_at, ui.lang)],
    ["open_alarms", String(marker ? marker.open_alarms : d.open_alarms)],
    ["grid", d.grid_code || ""],
    ["address", d.address],
  ];
  const list = $(".facts", pane);
  list.replaceChildren();
  for (const [key, value] of facts) {
    if (!value) continue;
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.dataset.fact = key;
    dd.textContent = value;
    list.append(dt, dd);
  }
  $("#latest").replaceChildren(...d.latest.map((v) => {
    const tr = document.createElement("tr");
    tr.dataset.property = v.property;
    const name = document.createElement("td");
    name.textContent = v.property_name;
    const value = document.createElement("td");
    value.className = "value";
    value.textContent = v.value == null ? "—" : `${v.value} ${v.unit}`;
    const when = document.createElement("td");
    when.className = "muted";
    when.textContent = formatTime(v.time, ui.lang);
    tr.append(name, value, when);
    return tr;
  }));
  const pick = $("#chart-property");
  const chosen = pick.value;
  pick.replaceChildren(...d.latest.map((v) => new Option(`${v.property_name} (${v.unit})`, v.property)));
  pick.value = d.latest.some((v) => v.property === chosen) ? chosen : d.latest[0]?.property ?? "";
}

async function loadSeries() {
  const id = selectedId;
  const property = $("#chart-property").value;
  if (!id || !property) return;
  // Both ends from this clock: the span, and so the resolution `auto` picks, is exactly the range.
  const end = Date.now();
  const start = end - RANGES[range];
  const params = new URLSearchParams({
    property, start: new Date(start).toISOString(), end: new Date(end).toISOString(), resolution: "auto",
  });
  const asked = ++seriesAsked;
  const series = await api(`/devices/${id}/series?${params}`);
  if (asked !== seriesAsked || id !== selectedId) return;
  drawChart(series, start, end);
}

function thresholdLines(thresholds) {
  return thresholds.map((th) => {
    const clear = th.kind === "clear";
    const colour = clear ? "#4a5568" : COLOURS[th.severity];
    const name = clear ? t("clear_level") : t(`s_${th.severity}`);
    return {
      name, yAxis: th.value,
      lineStyle: { color: colour, type: clear ? "dashed" : "solid", width: 1.5 },
      label: { formatter: `${name} ${th.value}`, position: "insideEndTop", color: colour },
    };
  });
}

function drawChart(s, start, end) {
  const box = $("#chart");
  chart ??= echarts.init(box);
  const raw = s.resolution === "raw";
  const at = (p) => Date.parse(p[0]);
  // raw points are [time, value, faulty]; rollups [start, min, avg, max, count].
  const main = raw ? s.points.filter((p) => !p[2]).map((p) => [at(p), p[1]]) : s.points.map((p) => [at(p), p[2]]);
  const series = [{
    id: "value", name: raw ? s.property_name : t("average"), type: "line", data: main,
    showSymbol: main.length <= 60, lineStyle: { width: 2, color: "#0b5cad" }, itemStyle: { color: "#0b5cad" },
    markLine: { symbol: "none", silent: true, data: thresholdLines(s.thresholds) },
  }];
  if (!raw) {
    for (const [id, index] of [["lowest", 1], ["highest", 3]]) {
      series.push({
        id, name: t(id), type: "line", showSymbol: false, data: s.points.map((p) => [at(p), p[index]]),
        lineStyle: { width: 1, type: "dotted", color: "#90a4b8" }, itemStyle: { color: "#90a4b8" },
      });
    }
  }
  const faulty = raw ? s.points.filter((p) => p[2]).map((p) => [at(p), p[1]]) : [];
  if (faulty.length) {
    series.push({ id: "faulty", name: t("faulty"), type: "scatter", data: faulty, symbol: "diamond", itemStyle: { color: COLOURS.fault } });
  }
  // The thresholds stay in view even while the readings are far from them.
  const levels = s.thresholds.map((th) => th.value);
  const low = Math.min(...levels);
  const high = Math.max(...levels);
  const room = (high - low) * 0.08 || Math.abs(high) * 0.08 || 1;
  chart.setOption({
    animation: false,
    grid: { left: 48, right: 64, top: 36, bottom: 32 },
    legend: { top: 4 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "time", min: start, max: end, axisLabel: { formatter: (value) => axisTime(value) } },
    yAxis: {
      type: "value", name: s.unit, scale: true,
      min: levels.length ? (extent) => Math.min(extent.min, low - room) : null,
      max: levels.length ? (extent) => Math.max(extent.max, high + room) : null,
    },
    series,
  }, { notMerge: true });
  $("#chart-empty").hidden = s.points.length > 0;
  box.dataset.property = s.property;
  box.dataset.resolution = s.resolution;
}

// Axis times in the centre's zone, whatever zone this browser is set to.
function axisTime(value) {
  const zone = document.documentElement.dataset.timezone || "Asia/Shanghai";
  const options = range === "1h" || range === "24h"
    ? { hour: "2-digit", minute: "2-digit" }
    : { month: "2-digit", day: "2-digit", hour: "2-digit" };
  return new Date(value).toLocaleString(ui.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: zone, ...options });
}

function chooseRange(name) {
  range = name;
  for (const button of document.querySelectorAll(".ranges button")) {
    button.classList.toggle("current", button.dataset.range === range);
  }
  loadSeries().catch(() => {});
}

// -- alarms -------------------------------------------------------------------------------

function alarmFilters() {
  const form = new FormData($("#alarm-filters"));
  return { state: form.get("state") || "open", severity: form.get("severity") || "", kind: form.get("kind") || "" };
}

function matches(a) {
  const f = alarmFilters();
  if (f.state === "open" ? a.state === "cleared" : a.state !== f.state) return false;
  if (f.severity && severityRank(a.severity) < severityRank(f.severity)) return false;
  return !f.kind || a.kind === f.kind;
}

// The API's order: the worst first, then the newest.
function order(a, b) {
  return severityRank(b.severity) - severityRank(a.severity)
    || Date.parse(b.raised_at) - Date.parse(a.raised_at) || b.id - a.id;
}

async function loadAlarms() {
  const f = alarmFilters();
  const params = new URLSearchParams({ state: f.state, limit: String(ALARM_LIMIT) });
  if (f.severity) params.set("severity", f.severity);
  if (f.kind) params.set("kind", f.kind);
  const asked = ++alarmsAsked;
  const page = await api(`/alarms?${params}`);
  if (asked !== alarmsAsked) return;
  const byId = new Map(page.items.map((a) => [a.id, a]));
  for (const [id, touched] of alarmTouched) {
    if (touched.asked < asked) {
      alarmTouched.delete(id); // this answer already knows what that frame said
    } else if (matches(touched.alarm)) {
      byId.set(id, touched.alarm);
    } else {
      byId.delete(id);
    }
  }
  alarms = [...byId.values()].sort(order);
  alarmTotal = page.total + (alarms.length - page.items.length);
  renderAlarms(new Set());
}

let alarmsTimer = null;
function loadAlarmsSoon() {
  clearTimeout(alarmsTimer);
  alarmsTimer = setTimeout(() => loadAlarms().catch(() => {}), 300);
}

// An alarm as it stands now (from a frame or an action's answer): into the list, out of it,
// or changed in place.
function applyAlarm(a, isNew) {
  alarmTouched.set(a.id, { asked: alarmsAsked, alarm: a });
  const i = alarms.findIndex((x) => x.id === a.id);
  const keep = matches(a);
  if (i >= 0 && keep) alarms[i] = a;
  else if (i >= 0) {
    alarms.splice(i, 1);
    alarmTotal -= 1;
  } else if (keep) {
    alarms.push(a);
    alarmTotal += 1;
  }
  alarms.sort(order);
  if (clearing === a.id && a.state === "cleared") clearing = null;
  renderAlarms(keep && isNew ? new Set([a.id]) : new Set());
}

function renderAlarms(fresh) {
  const may = mayWork();
  const rows = [];
  for (const a of alarms) {
    const tr = document.createElement("tr");
    tr.dataset.alarmId = a.id;
    tr.dataset.deviceId = a.device_id;
    tr.dataset.state = a.state;
    tr.className = [fresh.has(a.id) ? "new" : "", a.device_id === selectedId ? "open" : ""].join(" ").trim();
    const badge = document.createElement("span");
    badge.className = "sev";
    badge.style.background = COLOURS[a.severity];
    badge.textContent = t(`s_${a.severity}`);
    const level = [badge];
    if (a.kind === "fault") {
      const fault = document.createElement("span");
      fault.className = "sev fault";
      fault.style.background = COLOURS.fault;
      fault.textContent = t("kind_fault");
      level.push(fault);
    }
    const actions = document.createElement("td");
    actions.className = "actions";
    if (may && a.state === "active") actions.append(actionButton(a, "acknowledge"));
    if (may && a.state !== "cleared") actions.append(actionButton(a, "clear"));
    const cells = [
      level, [`${a.device_name} `, muted(a.device_code)], [a.message],
      [formatTime(a.raised_at, ui.lang)], [t(`state_${a.state}`)], [a.case_id ? `#${a.case_id}` : ""],
    ];
    cells.forEach((parts, index) => {
      const td = document.createElement("td");
      if (index === 2) td.className = "message";
      td.append(...parts);
      tr.append(td);
    });
    tr.append(actions);
    tr.addEventListener("click", () => selectDevice(a.device_id).catch(() => {}));
    rows.push(tr);
    if (may && clearing === a.id && a.state !== "cleared") rows.push(clearForm(a));
  }
  $("#alarm-rows").replaceChildren(...rows);
  $("#alarms-empty").hidden = alarms.length > 0;
  $("#alarm-count").textContent = t("count", { n: Math.max(alarmTotal, alarms.length) });
}

function muted(text) {
  const span = document.createElement("span");
  span.className = "muted";
  span.textContent = text;
  return span;
}

function actionButton(a, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = action === "acknowledge" ? "primary" : "secondary";
  button.dataset.action = action;
  button.textContent = t(action);
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    if (action === "acknowledge") act(a, "acknowledge", "", button).catch(() => {});
    else openClear(a);
  });
  return button;
}

function openClear(a) {
  clearing = a.id;
  clearNote = "";
  renderAlarms(new Set());
  $("#alarm-rows tr.clear-form input")?.focus();
}

function clearForm(a) {
  const tr = document.createElement("tr");
  tr.className = "clear-form";
  tr.dataset.alarmId = a.id;
  const td = document.createElement("td");
  td.colSpan = 7;
  const form = document.createElement("form");
  const note = document.createElement("input");
  note.name = "note";
  note.maxLength = 300;
  note.placeholder = t("clear_note");
  note.value = clearNote;
  note.addEventListener("input", () => { clearNote = note.value; });
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "primary";
  submit.textContent = t("confirm");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link dark";
  cancel.textContent = t("cancel");
  cancel.addEventListener("click", () => { clearing = null; renderAlarms(new Set()); });
  form.append(note, submit, cancel);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(a, "clear", note.value.trim(), submit).catch(() => {});
  });
  td.append(form);
  tr.append(td);
  tr.addEventListener("click", (event) => event.stopPropagation());
  return tr;
}

async function act(a, action, note, button) {
  const error = $("#alarm-error");
  error.hidden = true;
  button.disabled = true;
  try {
    const updated = await api(`/alarms/${a.id}/${action}`, { method: "POST", json: { note } });
    if (action === "clear") clearing = null;
    applyAlarm(updated, false);
    // The frame recolours the map too; without the live channel this does.
    loadMarkersSoon();
    if (updated.device_id === selectedId) refreshDeviceSoon();
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
    button.disabled = false;
    if (exc.status === 409) loadAlarmsSoon(); // someone else got there first
  }
}

// -- live ---------------------------------------------------------------------------------

function received(frame) {
  if (frame.type !== "alarm") return; // case frames are the console's
  if (frame.reload) {
    loadAlarmsSoon();
    loadMarkersSoon();
    return;
  }
  const summary = frame.device;
  deviceTouched.set(summary.id, markersAsked);
  const d = devices.get(summary.id);
  if (d) {
    Object.assign(d, { open_alarms: summary.open_alarms, alarm_severity: summary.alarm_severity, fault: summary.fault });
    placeMarker(d);
  } else {
    loadMarkersSoon(); // a device this page has not seen yet
  }
  applyAlarm(frame.alarm, frame.changes.includes("raised"));
  if (summary.id === selectedId) {
    renderDevice();
    refreshDeviceSoon(); // the reading that raised it is in by now
  }
}

function tick() {
  if (!me) return;
  ticks += 1;
  if (selectedId) refreshDevice().catch(() => {});
  if (ticks % MAP_EVERY === 0) loadMarkers().catch(() => {});
}

// -- wiring -------------------------------------------------------------------------------

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  setOnline(Boolean(live?.online));
  renderLegend();
  if (!me) return;
  renderPicker();
  for (const d of devices.values()) placeMarker(d);
  renderAlarms(new Set());
  if (selected) {
    renderDevice();
    loadSeries().catch(() => {});
  }
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const ok = await logIn(new FormData(event.target));
  $("#login-error").textContent = t("bad_login");
  $("#login-error").hidden = ok;
  if (ok) await start();
});
$("#logout").addEventListener("click", showLogin);
$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
$("#alarm-filters").addEventListener("submit", (event) => event.preventDefault());
$("#alarm-filters").addEventListener("change", () => {
  clearing = null;
  loadAlarms().catch(() => {});
});
$("#device-pick").addEventListener("change", (event) => {
  if (event.target.value) selectDevice(Number(event.target.value)).catch(() => {});
});
$("#chart-property").addEventListener("change", () => loadSeries().catch(() => {}));
for (const button of document.querySelectorAll(".ranges button")) {
  button.addEventListener("click", () => chooseRange(button.dataset.range));
}
window.addEventListener("resize", () => chart?.resize());
setInterval(tick, REFRESH_MS);
chooseRange(range);
applyText();
if (token.get()) start().catch(showLogin);
else showLogin();
