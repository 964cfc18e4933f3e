// The video wall (视频监控墙): cameras on a map, coloured by status and by what they saw in the
// last minutes, with the direction each looks; a tile per camera with its latest snapshot and
// its zones drawn over it; the detections as they arrive on /api/v1/ws, each with its verdict
// per zone. Admins draw a zone by clicking on a camera's snapshot and set its rule. Snapshots
// need the bearer token, which an <img src> cannot send: they are fetched into object URLs.
// Everything goes through /api/v1.

import { Live, api, blobUrl, formatTime, logIn, token, whenUnauthorized, words } from "./common.js";

const TEXT = {
  zh: {
    title: "视频监控墙", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", online: "在线", offline: "离线", lang: "English", bad_login: "用户名或密码错误",
    nav_console: "调度台", nav_sensors: "物联感知", nav_onemap: "一张图", nav_enforcement: "执法工作台", cameras: "摄像头", camera_count: "{n} 路",
    wall: "监控画面", search: "搜索名称或编号", no_cameras: "辖区内没有可查看的摄像头",
    no_camera: "在地图上或监控画面中点选摄像头，查看抓拍、分析区域和规则", no_shot: "暂无抓拍",
    detections: "实时检测", all_cameras: "全部摄像头", no_detections: "暂无检测记录", count: "共 {n} 条",
    zones: "分析区域", no_zones: "尚未设置分析区域", new_zone: "新建区域", edit: "编辑", retired: "已停用",
    save: "保存", save_enable: "保存并启用", cancel: "取消", close: "关闭", retire: "停用区域",
    retire_confirm: "确认停用", undo_point: "撤销上一点", clear_points: "清除重画",
    points: "已取 {n} 个点（至少 3 个）", draw_hint: "在上方抓拍画面上依次点击，画出区域的多边形",
    editor_new: "新建区域", editor_edit: "编辑区域「{name}」", f_code: "区域编号", f_name: "名称",
    f_purpose: "用途（如：禁止占道经营）", f_labels: "关注目标（英文标签，逗号分隔）",
    f_min_score: "最低置信度（0–1）", f_min_dwell: "最短停留（秒）", f_class: "立案类别",
    f_cooldown: "冷却时间（秒）", f_hours: "生效时段（不设则全天生效）", add_hours: "＋ 添加时段",
    remove: "删除", required: "必填", saved: "区域已保存", retired_done: "区域已停用", failed: "操作失败",
    mark_fp: "标记误报", marked_fp: "已标记误报", fp_note: "视频监控墙标记", case: "案件", status: "状态",
    last_seen: "最近上报", last_shot: "最近抓拍", grid: "网格", address: "地址", direction: "朝向",
    no_grid: "未落入网格", never: "无", st_online: "在线", st_offline: "离线", st_maintenance: "维护中",
    act_signalled: "近10分钟有上报", act_watching: "近10分钟有目标", ph_new: "出现", ph_update: "",
    ph_end: "离开", always: "全天", rule_score: "置信度≥{v}", rule_dwell: "停留≥{n}秒",
    rule_cooldown: "冷却{n}秒", score: "置信度", class: "类别", reported_at: "上报时间", assignee: "处置人",
    department: "处置部门", no_evidence: "无附件",
    v_watching: "观察中", v_signalled: "已上报", v_attached: "已并案", v_tracked: "跟踪中",
    v_ended: "已离开", v_label: "非关注目标", v_low_score: "置信度不足", v_off_hours: "非生效时段",
    v_false_positive: "已知误报", v_camera_down: "设备维护", v_outside: "区域外",
    cs_reported: "待受理", cs_verifying: "核实中", cs_accepted: "已受理", cs_filed: "已立案",
    cs_handling: "处置中", cs_deferred: "挂账", cs_handled: "已处置", cs_checking: "核查中",
    cs_checked: "核查通过", cs_closed: "已结案", cs_evaluated: "已评价", cs_cancelled: "已作废",
  },
  en: {
    title: "Video wall", login: "Log in", username: "Username", password: "Password", sign_in: "Log in",
    logout: "Log out", online: "Online", offline: "Offline", lang: "中文",
    bad_login: "Wrong username or password", nav_console: "Console", nav_sensors: "Sensors", nav_onemap: "One map", nav_enforcement: "Enforcement",
    cameras: "Cameras", camera_count: "{n} in all", wall: "Camera views", search: "Search name or code",
    no_cameras: "No camera in your area", no_shot: "No snapshot yet",
    no_camera: "Pick a camera on the map or a view to see its snapshot, zones and rules",
    detections: "Live detections", all_cameras: "All cameras", no_detections: "No detections yet",
    count: "{n} in all", zones: "Zones", no_zones: "No zone set up yet", new_zone: "New zone",
    edit: "Edit", retired: "Retired", save: "Save", save_enable: "Save and enable", cancel: "Cancel",
    close: "Close", retire: "Retire zone", retire_confirm: "Confirm retiring", undo_point: "Undo point",
    clear_points: "Start over", points: "{n} points (at least 3)",
    draw_hint: "Click on the snapshot above, point by point, to draw the zone", editor_new: "New zone",
    editor_edit: "Edit zone “{name}”", f_code: "Zone code", f_name: "Name",
    f_purpose: "Purpose (e.g. no street vending)", f_labels: "Labels watched (comma-separated)",
    f_min_score: "Minimum score (0–1)", f_min_dwell: "Minimum dwell (s)", f_class: "Case class",
    f_cooldown: "Cool-down (s)", f_hours: "Active hours (none: always)", add_hours: "+ Add hours",
    remove: "Remove", required: "Required", saved: "Zone saved", retired_done: "Zone retired",
    failed: "Action failed", mark_fp: "False positive", marked_fp: "Marked false positive",
    fp_note: "Marked on the video wall", case: "Case", status: "Status", last_seen: "Last report",
    last_shot: "Last snapshot", grid: "Grid", address: "Address", direction: "Looks", no_grid: "In no grid",
    never: "never", st_online: "Online", st_offline: "Offline", st_maintenance: "Maintenance",
    act_signalled: "Signalled in the last 10 min", act_watching: "Objects in the last 10 min",
    ph_new: "appeared", ph_update: "", ph_end: "left", always: "always", rule_score: "score ≥ {v}",
    rule_dwell: "dwell ≥ {n} s", rule_cooldown: "cool-down {n} s", score: "score", class: "Class",
    reported_at: "Reported", assignee: "Handler", department: "Department", no_evidence: "No attachments",
    v_watching: "Watching", v_signalled: "Signalled", v_attached: "Joined the case", v_tracked: "Tracked",
    v_ended: "Left", v_label: "Label not watched", v_low_score: "Score too low", v_off_hours: "Off hours",
    v_false_positive: "Known false positive", v_camera_down: "Camera down", v_outside: "Outside zones",
    cs_reported: "Reported", cs_verifying: "Verifying", cs_accepted: "Accepted", cs_filed: "Filed",
    cs_handling: "Handling", cs_deferred: "Deferred", cs_handled: "Handled", cs_checking: "Checking",
    cs_checked: "Checked", cs_closed: "Closed", cs_evaluated: "Evaluated", cs_cancelled: "Cancelled",
  },
};
// The analytics' labels (COCO's and the stall detectors' words) as the centre says them.
const LABELS_ZH = {
  person: "人员", car: "汽车", truck: "货车", bus: "公交车", bicycle: "自行车", motorcycle: "摩托车",
  table: "桌椅", chair: "椅子", umbrella: "遮阳伞", garbage: "垃圾", stall: "摊位", cart: "推车",
};

const STATUS_COLOURS = { online: "#1f9d55", offline: "#6b7280", maintenance: "#805ad5" };
const ACTIVITY_COLOURS = { signalled: "#c53030", watching: "#d69e2e" };
// Verdicts that raised or joined a case, and those that count but have not (yet).
const ALERT = new Set(["signalled", "attached"]);
const COUNTING = new Set(["watching", "tracked"]);
// A camera shows what it saw this long after the detection's frame was taken.
const RECENT_MS = 10 * 60e3;
const LIST_LIMIT = 100;
const KEEP_LIMIT = 400;
const CAMERA_LIMIT = 500;
const REFRESH_MS = 30e3;
// Statuses change by hand (an admin's edit): no frame tells of them, so the list is read again.
const CAMERAS_EVERY = 2;
// The view cone on the map: how far and how wide a fixed camera usefully sees.
const VIEW_RANGE_M = 60;
const VIEW_HALF_ANGLE = 30;
const DEFAULT_SIZE = [1280, 720];
const FIELDS = new Set(["code", "name", "purpose", "polygon", "labels", "min_score", "min_dwell_s",
  "active_hours", "class_code", "cooldown_s"]);
const SVG_NS = "http://www.w3.org/2000/svg";
const VERIFY_ROLES = new Set((document.documentElement.dataset.verifyRoles || "").split(" ").filter(Boolean));

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const $ = (selector, root = document) => root.querySelector(selector);
const enc = encodeURIComponent;

let me = null;
let live = null;
let map = null;
let legend = null;
let fitted = false;
const cameras = new Map(); // code → the camera (CameraRead), last_seen_at kept up by frames
const codes = new Map(); // camera id → code
const markers = new Map(); // code → { dot, cone } on the map
const tiles = new Map(); // code → its tile element
const zones = new Map(); // code → the camera's zones (ZoneRead), retired ones too
const shots = new Map(); // code → { url, width, height }: the latest snapshot as an object URL
const loaded = new Set(); // cameras whose zones and snapshot are loaded and current
const inView = new Set(); // cameras whose tile is on screen
let detections = []; // newest first: DetectionRead with camera_code
const fresh = new Set(); // detection ids that arrived live since the list was last drawn
const marked = new Set(); // detection ids marked as false positives from this page
let selected = null; // the chosen camera's code
let editor = null; // the zone being drawn: { zone (or null for a new one), points, errors, retiring }
let classes = null;
let ticks = 0;
let observer = null;

// Answers overlap with each other and with frames: each kind of request counts its askings and
// drops an answer that is not the last one asked.
let camerasAsked = 0;
let detectionsAsked = 0;
const snapshotsAsked = new Map();
const zonesAsked = new Map();

const isAdmin = () => Boolean(me?.roles.includes("admin"));
const mayVerify = () => Boolean(me?.roles.some((role) => VERIFY_ROLES.has(role)));
const labelName = (label) => (ui.lang === "zh" ? LABELS_ZH[label] ?? label : label);

// -- session ----------------------------------------------------------------------------

function showLogin() {
  live?.close();
  live = null;
  me = null;
  token.clear();
  forget();
  $("#login").hidden = false;
  $("#wall").hidden = true;
  $("#logout").hidden = true;
}

// Someone else may log in next on this screen, with another scope: nothing of the last
// person's cameras, snapshots or detections stays, and answers still on their way are dropped.
function forget() {
  for (const m of markers.values()) {
    m.dot.remove();
    m.cone?.remove();
  }
  for (const tile of tiles.values()) {
    observer?.unobserve(tile);
    tile.remove();
  }
  for (const shot of shots.values()) URL.revokeObjectURL(shot.url);
  for (const known of [markers, tiles, shots, cameras, codes, zones, loaded, inView, fresh, marked,
    snapshotsAsked, zonesAsked]) known.clear();
  camerasAsked += 1;
  detectionsAsked += 1;
  detections = [];
  selected = null;
  editor = null;
  classes = null;
  fitted = false;
  renderCamera();
  renderDetections();
}
whenUnauthorized(showLogin);

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#wall").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  startMap();
  live = new Live({
    personId: me.id,
    onStatus: setOnline,
    onUnauthorized: showLogin,
    // After each (re)connection: detection frames missed while away are not sent again.
    // The cameras first: the detection log names its cameras by id.
    onHello: () => loadCameras().then(loadDetections),
    onFrame: (frame) => received(frame),
  });
  live.connect();
}

function setOnline(online) {
  const status = $("#status");
  status.textContent = t(online ? "online" : "offline");
  status.className = `status ${online ? "online" : "offline"}`;
}

// -- cameras ------------------------------------------------------------------------------

async function loadCameras() {
  const asked = ++camerasAsked;
  const page = await api(`/cameras?limit=${CAMERA_LIMIT}`);
  if (asked !== camerasAsked) return;
  const seen = new Set();
  for (const c of page.items) {
    seen.add(c.code);
    const known = cameras.get(c.code);
    // A frame may have told of a later detection than this answer knows.
    if (known?.last_seen_at && (!c.last_seen_at || known.last_seen_at > c.last_seen_at)) {
      c.last_seen_at = known.last_seen_at;
    }
    if (known?.last_snapshot_at && (!c.last_snapshot_at || known.last_snapshot_at > c.last_snapshot_at)) {
      c.last_snapshot_at = known.last_snapshot_at;
    }
    if (known && known.last_snapshot_at !== c.last_snapshot_at) loaded.delete(c.code);
    cameras.set(c.code, c);
    codes.set(c.id, c.code);
  }
  for (const code of [...cameras.keys()]) {
    if (seen.has(code)) continue;
    cameras.delete(code);
    markers.get(code)?.dot.remove();
    markers.get(code)?.cone?.remove();
    markers.delete(code);
    tiles.get(code)?.remove();
    tiles.delete(code);
    if (selected === code) selectCamera(null);
  }
  for (const d of detections) d.camera_code ||= codes.get(d.camera_id) ?? "";
  for (const c of cameras.values()) placeCamera(c);
  renderTiles();
  renderCameraPicker();
  $("#camera-count").textContent = t("camera_count", { n: cameras.size });
  $("#no-cameras").hidden = cameras.size > 0;
  if (!fitted && markers.size) {
    fitted = true;
    const group = L.featureGroup([...markers.values()].map((m) => m.dot));
    map.fitBounds(group.getBounds(), { padding: [30, 30], maxZoom: 17 });
  }
  if (selected) renderCamera();
  for (const code of new Set([...inView, selected].filter(Boolean))) ensureLoaded(code);
}

let camerasTimer = null;
function loadCamerasSoon() {
  clearTimeout(camerasTimer);
  camerasTimer = setTimeout(() => loadCameras().catch(() => {}), 300);
}

// What a camera saw lately: "signalled" if a detection in the last minutes raised or joined a
// case, "watching" if one counted in a zone without (yet) doing so, else "".
function activityOf(code) {
  const since = Date.now() - RECENT_MS;
  let level = "";
  for (const d of detections) {
    if (Date.parse(d.time) < since) break; // newest first
    if (d.camera_code !== code) continue;
    const verdicts = d.verdicts.map((v) => v.verdict);
    if (verdicts.some((v) => ALERT.has(v))) return "signalled";
    if (verdicts.some((v) => COUNTING.has(v))) level = "watching";
  }
  return level;
}

async function ensureLoaded(code) {
  if (loaded.has(code) || !cameras.has(code)) return;
  loaded.add(code);
  try {
    await Promise.all([loadZones(code), loadSnapshot(code)]);
  } catch {
    loaded.delete(code); // tried again when it next comes into view
  }
}

async function loadZones(code) {
  const asked = (zonesAsked.get(code) ?? 0) + 1;
  zonesAsked.set(code, asked);
  const list = await api(`/cameras/${enc(code)}/zones`);
  if (zonesAsked.get(code) !== asked) return;
  zones.set(code, list);
  renderTile(code);
  if (code === selected) renderCamera();
  if (detections.some((d) => d.camera_code === code)) renderDetections();
}

// The latest snapshot, fetched with the token into an object URL; the one it replaces is
// revoked once the new one is drawn.
async function loadSnapshot(code) {
  const camera = cameras.get(code);
  if (!camera?.last_snapshot_at) return;
  const asked = (snapshotsAsked.get(code) ?? 0) + 1;
  snapshotsAsked.set(code, asked);
  const response = await fetch(`/api/v1/cameras/${enc(code)}/snapshot`, {
    headers: { Authorization: `Bearer ${token.get()}` }, cache: "no-store",
  });
  if (response.status === 401) {
    showLogin();
    return;
  }
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch {
    URL.revokeObjectURL(url); // not an image a browser can draw
    return;
  }
  if (snapshotsAsked.get(code) !== asked) {
    URL.revokeObjectURL(url);
    return;
  }
  const before = shots.get(code);
  shots.set(code, { url, width: image.naturalWidth, height: image.naturalHeight });
  renderTile(code);
  if (code === selected) renderView();
  if (before) URL.revokeObjectURL(before.url);
}

const snapshotTimers = new Map();
function snapshotChanged(code) {
  // Loaded now when it is on screen; otherwise when its tile next comes into view.
  if (!inView.has(code) && code !== selected) {
    loaded.delete(code);
    return;
  }
  clearTimeout(snapshotTimers.get(code));
  snapshotTimers.set(code, setTimeout(() => loadSnapshot(code).catch(() => {}), 250));
}

// -- the map ------------------------------------------------------------------------------

function startMap() {
  if (map) return;
  map = L.map("camera-map", { attributionControl: false }).setView([29.56, 106.57], 15);
  const tilesUrl = document.documentElement.dataset.tiles;
  if (tilesUrl) L.tileLayer(tilesUrl, { maxZoom: 19 }).addTo(map);
  legend = L.control({ position: "bottomright" });
  legend.onAdd = () => L.DomUtil.create("div", "legend");
  legend.addTo(map);
  renderLegend();
}

function renderLegend() {
  const box = legend?.getContainer();
  if (!box) return;
  const rows = Object.entries(STATUS_COLOURS).map(([status, colour]) => {
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = swatch.style.borderColor = colour;
    return legendRow(`status-${status}`, swatch, t(`st_${status}`));
  });
  for (const [level, colour] of Object.entries(ACTIVITY_COLOURS)) {
    const swatch = document.createElement("span");
    swatch.className = "swatch ring";
    swatch.style.borderColor = colour;
    rows.push(legendRow(`activity-${level}`, swatch, t(`act_${level}`)));
  }
  box.replaceChildren(...rows);
}

function legendRow(key, swatch, text) {
  const row = document.createElement("div");
  row.dataset.legend = key;
  row.append(swatch, text);
  return row;
}

// The sector a camera looks at, `VIEW_RANGE_M` long: close enough to flat at this scale.
function viewCone(c) {
  const points = [[c.lat, c.lon]];
  const metresPerDegree = 111_320;
  for (let a = c.direction_deg - VIEW_HALF_ANGLE; a <= c.direction_deg + VIEW_HALF_ANGLE; a += 5) {
    const rad = (a * Math.PI) / 180;
    const north = VIEW_RANGE_M * Math.cos(rad);
    const east = VIEW_RANGE_M * Math.sin(rad);
    points.push([c.lat + north / metresPerDegree,
      c.lon + east / (metresPerDegree * Math.cos((c.lat * Math.PI) / 180))]);
  }
  return points;
}

function placeCamera(c) {
  let m = markers.get(c.code);
  const activity = activityOf(c.code);
  const chosen = c.code === selected;
  const colour = STATUS_COLOURS[c.status] ?? STATUS_COLOURS.offline;
  const style = {
    radius: chosen ? 11 : 8, weight: activity ? 4 : chosen ? 3 : 2, fillOpacity: 0.9, fillColor: colour,
    color: activity ? ACTIVITY_COLOURS[activity] : chosen ? "#111" : colour,
  };
  if (!m) {
    m = { dot: L.circleMarker([c.lat, c.lon], { ...style, className: "camera-marker" }).addTo(map), cone: null };
    m.dot.on("click", () => selectCamera(c.code));
    markers.set(c.code, m);
  } else {
    m.dot.setLatLng([c.lat, c.lon]);
    m.dot.setStyle(style);
  }
  if (c.direction_deg == null) {
    m.cone?.remove();
    m.cone = null;
  } else {
    const coneStyle = { color: colour, weight: 1, fillColor: colour, fillOpacity: chosen ? 0.3 : 0.15 };
    if (!m.cone) {
      m.cone = L.polygon(viewCone(c), { ...coneStyle, className: "camera-cone", interactive: false }).addTo(map);
    } else {
      m.cone.setLatLngs(viewCone(c));
      m.cone.setStyle(coneStyle);
    }
    m.cone.getElement().dataset.camera = c.code;
    m.cone.getElement().dataset.direction = String(c.direction_deg);
  }
  m.dot.bindTooltip(`${c.name} · ${t(`st_${c.status}`)}${activity ? ` · ${t(`act_${activity}`)}` : ""}`);
  const element = m.dot.getElement();
  element.dataset.camera = c.code;
  element.dataset.status = c.status;
  element.dataset.activity = activity || "none";
  m.dot.bringToFront();
}

// -- tiles and snapshots --------------------------------------------------------------------

function shotBox(big) {
  const box = document.createElement("div");
  box.className = big ? "shot big" : "shot";
  const img = document.createElement("img");
  img.alt = "";
  img.hidden = true;
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("preserveAspectRatio", "none");
  const none = document.createElement("p");
  none.className = "no-shot";
  box.append(img, svg, none);
  return box;
}

function renderTiles() {
  const ordered = [...cameras.values()].sort((a, b) => a.code.localeCompare(b.code));
  const elements = ordered.map((c) => {
    let tile = tiles.get(c.code);
    if (!tile) {
      tile = document.createElement("article");
      tile.className = "tile";
      tile.tabIndex = 0;
      tile.dataset.camera = c.code;
      const footer = document.createElement("footer");
      for (const name of ["dot", "name", "state muted", "seen muted"]) {
        const span = document.createElement("span");
        span.className = name;
        footer.append(span);
      }
      tile.append(shotBox(false), footer);
      tile.addEventListener("click", () => selectCamera(c.code));
      tile.addEventListener("keydown", (event) => {
        if (event.key === "Enter") selectCamera(c.code);
      });
      tiles.set(c.code, tile);
      observer?.observe(tile);
    }
    renderTile(c.code);
    return tile;
  });
  $("#tiles").replaceChildren(...elements);
  filterTiles();
}

function renderTile(code) {
  const tile = tiles.get(code);
  const c = cameras.get(code);
  if (!tile || !c) return;
  const activity = activityOf(code);
  tile.dataset.status = c.status;
  tile.dataset.activity = activity || "none";
  tile.className = ["tile", code === selected ? "open" : "", activity].filter(Boolean).join(" ");
  const dot = $(".dot", tile);
  dot.style.background = dot.style.borderColor = STATUS_COLOURS[c.status] ?? STATUS_COLOURS.offline;
  $(".name", tile).textContent = c.name;
  $(".name", tile).title = `${c.code} ${c.name}`;
  $(".state", tile).textContent = t(`st_${c.status}`);
  $(".seen", tile).textContent = `${t("last_seen")}: ${c.last_seen_at ? formatTime(c.last_seen_at, ui.lang) : t("never")}`;
  fillShot($(".shot", tile), code, false);
}

function filterTiles() {
  const text = $("#camera-search").value.trim().toLowerCase();
  for (const [code, tile] of tiles) {
    const c = cameras.get(code);
    tile.hidden = Boolean(text) && !`${c.code} ${c.name}`.toLowerCase().includes(text);
  }
}

// A snapshot box: the image (or a placeholder in the camera's frame size) and the zones over
// it; the big view also draws the latest detection's box and the zone being drawn.
function fillShot(box, code, big) {
  const c = cameras.get(code);
  const shot = shots.get(code);
  const [width, height] = shot
    ? [shot.width, shot.height]
    : [c?.image_width || DEFAULT_SIZE[0], c?.image_height || DEFAULT_SIZE[1]];
  box.style.aspectRatio = `${width} / ${height}`;
  box.dataset.camera = code;
  box.dataset.hasShot = shot ? "true" : "false";
  const img = $("img", box);
  if (shot) {
    if (img.getAttribute("src") !== shot.url) img.src = shot.url;
    img.hidden = false;
  } else {
    img.removeAttribute("src");
    img.hidden = true;
  }
  const none = $(".no-shot", box);
  none.textContent = t("no_shot");
  none.hidden = Boolean(shot);
  drawOverlay($("svg", box), code, width, height, big);
}

function svg(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

function drawOverlay(layer, code, width, height, big) {
  layer.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const font = Math.round(Math.max(width, height) / (big ? 48 : 28));
  const drawing = big && editor;
  const parts = [];
  for (const z of zones.get(code) || []) {
    if (!z.active || (drawing && editor.zone?.code === z.code)) continue;
    const group = svg("g", { class: "zone", "data-zone": z.code });
    group.append(svg("polygon", { points: z.polygon.map(([x, y]) => `${x * width},${y * height}`).join(" ") }));
    // The name at the zone's top-most point, just inside it.
    const [x, y] = z.polygon.reduce((top, p) => (p[1] < top[1] || (p[1] === top[1] && p[0] < top[0]) ? p : top));
    group.append(svg("text", { x: x * width + font * 0.3, y: y * height + font * 1.1, "font-size": font }, z.name));
    parts.push(group);
  }
  if (big) {
    const latest = detections.find((d) => d.camera_code === code && d.box && d.phase !== "end");
    if (latest && Date.now() - Date.parse(latest.time) < RECENT_MS) {
      const [x1, y1, x2, y2] = latest.box;
      const group = svg("g", { class: "box", "data-detection-id": latest.id });
      group.append(svg("rect", { x: x1 * width, y: y1 * height, width: (x2 - x1) * width, height: (y2 - y1) * height }));
      group.append(svg("text", { x: x1 * width, y: Math.max(y1 * height - font * 0.3, font), "font-size": font },
        `${labelName(latest.label)} ${latest.score.toFixed(2)}`));
      parts.push(group);
    }
  }
  if (drawing) {
    const points = editor.points.map(([x, y]) => `${x * width},${y * height}`).join(" ");
    const draft = svg("g", { class: "draft" });
    draft.append(svg(editor.points.length >= 3 ? "polygon" : "polyline", { points }));
    for (const [x, y] of editor.points) draft.append(svg("circle", { cx: x * width, cy: y * height, r: Math.max(width, height) / 160 }));
    parts.push(draft);
  }
  layer.replaceChildren(...parts);
}

// -- the chosen camera ------------------------------------------------------------------------

function selectCamera(code) {
  const before = selected;
  if (before !== code) closeEditor();
  selected = code;
  $("#saved").hidden = true;
  for (const other of [before, code]) {
    if (other && cameras.has(other)) {
      placeCamera(cameras.get(other));
      renderTile(other);
    }
  }
  if (code) ensureLoaded(code);
  renderCamera();
  renderDetections();
}

function renderCamera() {
  const c = selected ? cameras.get(selected) : null;
  $("#no-camera").hidden = Boolean(c);
  $("#camera-body").hidden = !c;
  const pane = $("#camera");
  if (!c) {
    delete pane.dataset.camera;
    return;
  }
  pane.dataset.camera = c.code;
  const dot = $(".dot", pane);
  dot.style.background = dot.style.borderColor = STATUS_COLOURS[c.status] ?? STATUS_COLOURS.offline;
  $(".name", pane).textContent = c.name;
  $(".code", pane).textContent = c.code;
  const activity = activityOf(c.code);
  const facts = [
    ["status", `${t(`st_${c.status}`)}${activity ? ` · ${t(`act_${activity}`)}` : ""}`],
    ["last_seen", c.last_seen_at ? formatTime(c.last_seen_at, ui.lang) : t("never")],
    ["last_shot", c.last_snapshot_at ? formatTime(c.last_snapshot_at, ui.lang) : t("never")],
    ["grid", c.grid_code || t("no_grid")],
    ["address", c.address],
    ["direction", c.direction_deg == null ? "" : `${Math.round(c.direction_deg)}°`],
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
  renderView();
  renderZones();
  $("#new-zone").hidden = !isAdmin() || Boolean(editor);
  renderEditor();
}

function renderView() {
  if (!selected) return;
  const view = $("#view");
  fillShot(view, selected, true);
  view.classList.toggle("drawing", Boolean(editor));
}

function ruleText(z) {
  const hours = z.active_hours.length ? z.active_hours.map((w) => `${w.from}–${w.to}`).join(", ") : t("always");
  return [
    z.labels.map(labelName).join("/"), t("rule_score", { v: z.min_score.toFixed(2) }),
    t("rule_dwell", { n: z.min_dwell_s }), hours, z.class_code, t("rule_cooldown", { n: z.cooldown_s }),
  ].join(" · ");
}

function renderZones() {
  const list = zones.get(selected) || [];
  const admin = isAdmin();
  $("#zone-list").replaceChildren(...list.map((z) => {
    const li = document.createElement("li");
    li.dataset.zone = z.code;
    li.className = z.active ? "" : "retired";
    const head = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = z.name;
    head.append(name, muted(` ${z.code}`));
    if (z.purpose) head.append(` · ${z.purpose}`);
    if (!z.active) {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = t("retired");
      head.append(tag);
    }
    const rule = document.createElement("div");
    rule.className = "rule muted";
    rule.textContent = ruleText(z);
    li.append(head, rule);
    if (admin && !editor) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.dataset.action = "edit";
      button.textContent = t("edit");
      button.addEventListener("click", () => openEditor(z));
      li.append(button);
    }
    return li;
  }));
  $("#no-zones").hidden = list.length > 0;
}

function muted(text) {
  const span = document.createElement("span");
  span.className = "muted";
  span.textContent = text;
  return span;
}

// -- the zone editor (admins) ---------------------------------------------------------------

async function openEditor(zone) {
  if (!isAdmin() || !selected) return;
  editor = { zone, points: zone ? zone.polygon.map(([x, y]) => [x, y]) : [], errors: {}, retiring: false };
  $("#saved").hidden = true;
  const form = $("#zone-editor");
  form.elements.code.value = zone?.code ?? "";
  form.elements.code.disabled = Boolean(zone);
  form.elements.name.value = zone?.name ?? "";
  form.elements.purpose.value = zone?.purpose ?? "";
  form.elements.labels.value = (zone?.labels ?? ["person"]).join(", ");
  form.elements.min_score.value = String(zone?.min_score ?? 0.6);
  form.elements.min_dwell_s.value = String(zone?.min_dwell_s ?? 0);
  form.elements.cooldown_s.value = String(zone?.cooldown_s ?? 600);
  $("#hours").replaceChildren(...(zone?.active_hours ?? []).map((w) => hoursRow(w.from, w.to)));
  renderCamera();
  (zone ? form.elements.name : form.elements.code).focus();
  await fillClasses(zone?.class_code);
}

function closeEditor() {
  if (!editor) return;
  editor = null;
  renderCamera();
}

async function fillClasses(current) {
  classes ??= await api("/catalog/classes?active=true");
  const select = $("#zone-editor").elements.class_code;
  const options = classes.map((c) => new Option(`${c.code} ${c.name}`, c.code));
  if (current && !classes.some((c) => c.code === current)) options.unshift(new Option(current, current));
  const chosen = select.value;
  select.replaceChildren(...options);
  select.value = current ?? chosen ?? "";
  if (!select.value && options.length) select.value = options[0].value;
}

function hoursRow(from = "", to = "") {
  const row = document.createElement("div");
  row.className = "hours-row";
  const start = document.createElement("input");
  start.type = "time";
  start.name = "from";
  start.value = from;
  const end = document.createElement("input");
  end.type = "time";
  end.name = "to";
  end.value = to;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "link dark";
  remove.textContent = t("remove");
  remove.addEventListener("click", () => row.remove());
  row.append(start, "–", end, remove);
  return row;
}

function renderEditor() {
  const form = $("#zone-editor");
  form.hidden = !editor;
  $("#draw-hint").hidden = !editor;
  if (!editor) return;
  const zone = editor.zone;
  $("#editor-title").textContent = zone ? t("editor_edit", { name: zone.name }) : t("editor_new");
  $("#point-count").textContent = t("points", { n: editor.points.length });
  $("#undo-point").disabled = editor.points.length === 0;
  $("#clear-points").disabled = editor.points.length === 0;
  $("button[type=submit]", form).textContent = zone && !zone.active ? t("save_enable") : t("save");
  const retire = $("#retire-zone");
  retire.hidden = !zone?.active;
  retire.textContent = editor.retiring ? t("retire_confirm") : t("retire");
  retire.classList.toggle("confirming", editor.retiring);
  for (const small of form.querySelectorAll("[data-error-for]")) {
    const message = editor.errors[small.dataset.errorFor];
    small.textContent = message || "";
    small.hidden = !message;
    const field = small.closest("[data-field]");
    if (field) field.toggleAttribute("data-invalid", Boolean(message));
  }
  for (const button of form.querySelectorAll(".hours-row button")) button.textContent = t("remove");
}

function addPoint(event) {
  if (!editor) return;
  const box = event.currentTarget.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
  editor.points.push([clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)]);
  delete editor.errors.polygon;
  renderView();
  renderEditor();
}

function zoneBody(code) {
  const form = $("#zone-editor").elements;
  const number = (value) => (value.trim() === "" ? null : Number(value));
  return {
    code,
    name: form.name.value.trim(),
    purpose: form.purpose.value.trim(),
    polygon: editor.points,
    labels: form.labels.value.split(/[\s,，、]+/).filter(Boolean),
    min_score: number(form.min_score.value),
    min_dwell_s: number(form.min_dwell_s.value),
    active_hours: [...document.querySelectorAll("#hours .hours-row")].map((row) => ({
      from: $("input[name=from]", row).value, to: $("input[name=to]", row).value,
    })),
    class_code: form.class_code.value,
    cooldown_s: number(form.cooldown_s.value),
    active: true,
  };
}

// The API's 422 names each bad field (`labels`, `active_hours.0.from`): the message goes under
// that field, or above the form for what no field shows.
function fieldErrors(problem) {
  const errors = {};
  for (const e of problem.errors || []) {
    const head = String(e.path || "").split(".")[0];
    const field = FIELDS.has(head) ? head : "form";
    errors[field] = errors[field] ? `${errors[field]}; ${e.message}` : e.message;
  }
  if (!Object.keys(errors).length) errors.form = problem.detail || problem.title || t("failed");
  return errors;
}

async function saveZone(event) {
  event.preventDefault();
  if (!editor) return;
  const code = editor.zone?.code ?? $("#zone-editor").elements.code.value.trim();
  editor.errors = {};
  if (!code) {
    editor.errors.code = t("required");
    renderEditor();
    return;
  }
  const camera = selected;
  const submit = $("#zone-editor button[type=submit]");
  submit.disabled = true;
  try {
    await api(`/cameras/${enc(camera)}/zones/${enc(code)}`, { method: "PUT", json: zoneBody(code) });
    editor = null;
    await loadZones(camera);
    renderCamera();
    showSaved("saved");
  } catch (exc) {
    if (!editor) return;
    editor.errors = exc.status === 422 ? fieldErrors(exc.problem) : { form: `${t("failed")}: ${exc.message}` };
    renderEditor();
  } finally {
    submit.disabled = false;
  }
}

async function retireZone() {
  if (!editor?.zone) return;
  if (!editor.retiring) {
    editor.retiring = true; // a second click confirms: a retired zone stops judging at once
    renderEditor();
    return;
  }
  const camera = selected;
  try {
    await api(`/cameras/${enc(camera)}/zones/${enc(editor.zone.code)}`, { method: "DELETE" });
    editor = null;
    await loadZones(camera);
    renderCamera();
    showSaved("retired_done");
  } catch (exc) {
    if (!editor) return;
    editor.retiring = false;
    editor.errors = { form: `${t("failed")}: ${exc.message}` };
    renderEditor();
  }
}

function showSaved(key) {
  const notice = $("#saved");
  notice.dataset.t = key;
  notice.textContent = t(key);
  notice.hidden = false;
}

// -- detections -------------------------------------------------------------------------------

function order(a, b) {
  return Date.parse(b.time) - Date.parse(a.time) || b.id - a.id;
}

// Detections do not change once judged: the list is the union of what was read and what
// arrived, newest first.
function addDetections(items) {
  const byId = new Map(detections.map((d) => [d.id, d]));
  for (const d of items) byId.set(d.id, d);
  detections = [...byId.values()].sort(order).slice(0, KEEP_LIMIT);
}

async function loadDetections() {
  const camera = $("#detection-camera").value;
  const params = new URLSearchParams({ limit: String(LIST_LIMIT) });
  if (camera) params.set("camera", camera);
  const asked = ++detectionsAsked;
  const page = await api(`/detections?${params}`);
  if (asked !== detectionsAsked) return;
  addDetections(page.items.map((d) => ({ ...d, camera_code: codes.get(d.camera_id) ?? "" })));
  refreshActivity();
}

let detectionsTimer = null;
function loadDetectionsSoon() {
  clearTimeout(detectionsTimer);
  detectionsTimer = setTimeout(() => loadDetections().catch(() => {}), 300);
}

function renderCameraPicker() {
  const pick = $("#detection-camera");
  const chosen = pick.value;
  const ordered = [...cameras.values()].sort((a, b) => a.code.localeCompare(b.code));
  pick.replaceChildren(new Option(t("all_cameras"), ""), ...ordered.map((c) => new Option(`${c.code} ${c.name}`, c.code)));
  pick.value = cameras.has(chosen) ? chosen : "";
}

function levelOf(d) {
  const verdicts = d.verdicts.map((v) => v.verdict);
  if (verdicts.some((v) => ALERT.has(v))) return "signalled";
  return verdicts.some((v) => COUNTING.has(v)) ? "watching" : "";
}

function clock(iso) {
  const zone = document.documentElement.dataset.timezone || "Asia/Shanghai";
  return new Date(iso).toLocaleString(ui.lang === "zh" ? "zh-CN" : "en-GB", {
    timeZone: zone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

function renderDetections() {
  const camera = $("#detection-camera").value;
  const shown = detections.filter((d) => !camera || d.camera_code === camera).slice(0, LIST_LIMIT);
  $("#detection-list").replaceChildren(...shown.map(detectionItem));
  fresh.clear();
  $("#detections-empty").hidden = shown.length > 0;
  $("#detection-count").textContent = t("count", { n: shown.length });
}

function detectionItem(d) {
  const c = cameras.get(d.camera_code);
  const li = document.createElement("li");
  li.dataset.detectionId = d.id;
  li.dataset.camera = d.camera_code;
  li.className = [fresh.has(d.id) ? "new" : "", levelOf(d), d.camera_code === selected ? "open" : ""]
    .filter(Boolean).join(" ");
  const head = document.createElement("div");
  head.className = "head";
  const when = document.createElement("time");
  when.dateTime = d.time;
  when.textContent = clock(d.time);
  const name = document.createElement("strong");
  name.className = "camera";
  name.textContent = c ? c.name : d.camera_code || `#${d.camera_id}`;
  head.append(when, name);
  const what = document.createElement("div");
  what.className = "what";
  const label = document.createElement("span");
  label.className = "label";
  label.textContent = labelName(d.label);
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = ` ${t("score")} ${d.score.toFixed(2)}`;
  what.append(label, score);
  const phase = t(`ph_${d.phase}`);
  if (phase) what.append(muted(` · ${phase}`));
  const verdicts = document.createElement("ul");
  verdicts.className = "verdicts";
  for (const v of d.verdicts) verdicts.append(verdictChip(d, v));
  li.append(head, what, verdicts);
  if (mayVerify() && d.box) li.append(falsePositiveAction(d));
  li.addEventListener("click", () => selectCamera(d.camera_code));
  return li;
}

function verdictChip(d, v) {
  const chip = document.createElement("li");
  chip.className = ["verdict", ALERT.has(v.verdict) ? "alert" : COUNTING.has(v.verdict) ? "counting" : ""]
    .filter(Boolean).join(" ");
  chip.dataset.verdict = v.verdict;
  if (v.zone) {
    chip.dataset.zone = v.zone;
    const zone = (zones.get(d.camera_code) || []).find((z) => z.code === v.zone);
    chip.append(zone ? zone.name : v.zone);
  }
  const word = document.createElement("b");
  word.textContent = t(`v_${v.verdict}`);
  chip.append(word);
  if (v.case_id) {
    const link = document.createElement("a");
    link.href = `#case-${v.case_id}`;
    link.className = "case-link";
    link.dataset.caseId = v.case_id;
    link.textContent = `${t("case")} #${v.case_id}`;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      openCase(v.case_id).catch(() => {});
    });
    chip.append(link);
  }
  return chip;
}

function falsePositiveAction(d) {
  const box = document.createElement("div");
  box.className = "fp";
  if (marked.has(d.id)) {
    const done = document.createElement("span");
    done.className = "done";
    done.textContent = t("marked_fp");
    box.append(done);
    return box;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.dataset.action = "false-positive";
  button.textContent = t("mark_fp");
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    markFalsePositive(d, button).catch(() => {});
  });
  box.append(button);
  return box;
}

async function markFalsePositive(d, button) {
  const error = $("#detection-error");
  error.hidden = true;
  button.disabled = true;
  try {
    await api(`/cameras/${enc(d.camera_code)}/false-positives`, {
      method: "POST", json: { detection_id: d.id, note: t("fp_note") },
    });
    marked.add(d.id);
    renderDetections();
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
    button.disabled = false;
  }
}

// The case a detection raised or joined, read through the API: what it is and where it stands.
async function openCase(id) {
  const c = await api(`/cases/${id}`);
  const dialog = $("#case-dialog");
  dialog.dataset.caseId = id;
  $("#case-number").textContent = `${t("case")} ${c.number}`;
  const facts = [
    ["status", t(`cs_${c.state}`)], ["class", c.class_name ? `${c.class_code} ${c.class_name}` : c.class_code],
    ["reported_at", formatTime(c.reported_at, ui.lang)], ["address", c.address],
    ["department", c.department_name], ["assignee", c.assignee_name],
  ];
  $("#case-facts").replaceChildren(...facts.filter(([, value]) => value).flatMap(([key, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.dataset.fact = key;
    dd.textContent = value;
    return [dt, dd];
  }));
  $("#case-description").textContent = c.description;
  const evidence = $("#case-evidence");
  evidence.replaceChildren();
  if (!c.attachments.length) evidence.textContent = t("no_evidence");
  if (!dialog.open) dialog.showModal();
  for (const a of c.attachments) {
    if (!a.content_type.startsWith("image/")) continue;
    const img = document.createElement("img");
    img.alt = a.filename;
    img.src = await blobUrl(a.url);
    evidence.append(img);
  }
}

// -- live -----------------------------------------------------------------------------------

function received(frame) {
  if (frame.type !== "detection") return; // case and alarm frames are the other pages'
  const code = frame.camera.code;
  const camera = cameras.get(code);
  if (!camera) loadCamerasSoon(); // a camera this page has not seen yet
  if (frame.reload) {
    // A backlog came in at once: read the list again rather than draw it row by row.
    if (camera) seen(camera, frame.latest, frame.has_snapshot);
    if (frame.has_snapshot) snapshotChanged(code);
    loadDetectionsSoon();
    return;
  }
  const d = { ...frame.detection, camera_code: code };
  fresh.add(d.id);
  addDetections([d]);
  if (camera) {
    seen(camera, d.time, d.has_snapshot);
    if (d.has_snapshot) snapshotChanged(code);
    placeCamera(camera);
    renderTile(code);
    if (code === selected) renderCamera();
  }
  renderDetections();
}

function seen(camera, time, withSnapshot) {
  if (!camera.last_seen_at || Date.parse(time) > Date.parse(camera.last_seen_at)) camera.last_seen_at = time;
  if (withSnapshot && (!camera.last_snapshot_at || Date.parse(time) >= Date.parse(camera.last_snapshot_at))) {
    camera.last_snapshot_at = time;
  }
}

// What a camera saw fades after `RECENT_MS`: its colours are worked out again now and then.
function refreshActivity() {
  for (const c of cameras.values()) {
    placeCamera(c);
    renderTile(c.code);
  }
  if (selected) renderCamera();
  renderDetections();
}

function tick() {
  if (!me) return;
  ticks += 1;
  if (ticks % CAMERAS_EVERY === 0) {
    loadCameras().then(refreshActivity).catch(() => {});
    // Another admin may have changed the chosen camera's zones; none is being drawn here.
    if (selected && !editor) loadZones(selected).catch(() => {});
  } else {
    refreshActivity();
  }
}

// -- wiring ---------------------------------------------------------------------------------

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
  $("#lang").textContent = t("lang");
  setOnline(Boolean(live?.online));
  renderLegend();
  if (!me) return;
  $("#camera-count").textContent = t("camera_count", { n: cameras.size });
  renderCameraPicker();
  for (const c of cameras.values()) {
    placeCamera(c);
    renderTile(c.code);
  }
  renderCamera();
  renderDetections();
}

observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const code = entry.target.dataset.camera;
    if (entry.isIntersecting) {
      inView.add(code);
      ensureLoaded(code);
    } else {
      inView.delete(code);
    }
  }
}, { root: $("#tiles-pane"), rootMargin: "200px" });

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const ok = await logIn(new FormData(event.target));
  $("#login-error").textContent = t("bad_login");
  $("#login-error").hidden = ok;
  if (ok) await start();
});
$("#logout").addEventListener("click", showLogin);
$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
$("#camera-search").addEventListener("input", filterTiles);
$("#detection-camera").addEventListener("change", () => {
  renderDetections();
  loadDetections().catch(() => {});
});
$("#view svg").addEventListener("click", addPoint);
$("#new-zone").addEventListener("click", () => openEditor(null).catch(() => {}));
$("#cancel-edit").addEventListener("click", closeEditor);
$("#undo-point").addEventListener("click", () => {
  editor?.points.pop();
  renderView();
  renderEditor();
});
$("#clear-points").addEventListener("click", () => {
  if (editor) editor.points = [];
  renderView();
  renderEditor();
});
$("#add-hours").addEventListener("click", () => $("#hours").append(hoursRow("08:00", "20:00")));
$("#zone-editor").addEventListener("submit", (event) => saveZone(event).catch(() => {}));
$("#retire-zone").addEventListener("click", () => retireZone().catch(() => {}));
$("#close-case").addEventListener("click", () => $("#case-dialog").close());
setInterval(tick, REFRESH_MS);
applyText();
if (token.get()) start().catch(showLogin);
else showLogin();
