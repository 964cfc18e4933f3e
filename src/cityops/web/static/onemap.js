// The one map (国土空间“一张图”): the layers in a tree, drawn from the server's vector tiles in
// their land-use classes' colours, a feature's attributes on a click; the latest comparison's
// conflict patches above everything with their report, a patch's detail, its case and its
// resolution; and the cockpit view of conflict area by street. Everything goes through
// /api/v1 and /ogcapi.

import { ApiError, api, formatTime, logIn, token, whenUnauthorized, words } from "./common.js";

const TEXT = {
  zh: {
    title: "国土空间“一张图”", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", lang: "English", bad_login: "用户名或密码错误", nav_console: "调度台", nav_enforcement: "执法工作台",
    nav_sensors: "物联感知", nav_video: "视频监控", layers: "图层", g_plan: "规划", g_base: "现状",
    g_control_line: "三区三线", g_grids: "网格", g_conflicts: "冲突图斑",
    no_layers: "还没有图层。请在服务器上用 cityops import layer 导入规划、现状或控制线图层，例如：",
    version: "第 {v} 版", features: "{n} 个要素", opacity: "透明度", fit: "定位",
    grids: "管理网格", conflicts_layer: "最近一次比对的冲突图斑", no_conflict_layer: "尚无比对结果",
    legend_empty: "勾选图层后显示图例", no_class: "未分类",
    line_ecological_red_line: "生态保护红线", line_permanent_farmland: "永久基本农田",
    line_urban_boundary: "城镇开发边界",
    tab_report: "比对报告", tab_streets: "街道统计", tab_patch: "图斑详情",
    no_run: "还没有完成的比对。请在服务器上运行 cityops conflicts 比对两个或更多图层，例如：",
    no_run_planner: "或在此页选择图层直接比对：",
    run: "多规合一比对", run_number: "第 {id} 次", run_layers: "比对图层", run_state: "状态",
    patch_total: "冲突图斑", total_area: "冲突总面积", dropped: "剔除碎片",
    dropped_value: "面积过小 {area} 个，宽度过窄 {width} 个，共 {m2} m²", finished: "完成时间",
    started_by: "发起人", note: "说明", run_finished: "已完成", run_running: "进行中", run_failed: "失败",
    download: "下载报告：", dl_gpkg: "图斑 GeoPackage", dl_pairs: "按类别 XLSX", dl_streets: "按街道 XLSX",
    by_pair: "按冲突类别统计", pair: "冲突类别", patches: "图斑数", area_ha: "面积（公顷）",
    area_m2: "面积（m²）", st_open: "待处理", st_case_opened: "已立案", st_resolved: "已处理",
    patch_list: "冲突图斑清单", all_streets: "全部街道", all_states: "全部状态", all_rules: "全部规则",
    count: "共 {n} 处", no_patches: "没有符合条件的图斑", prev: "上一页", next: "下一页",
    page_of: "{from}–{to}，共 {n} 处", street: "街道", state: "状态", outside_street: "街道范围外",
    compare: "新建比对", compare_title: "多规合一比对", compare_hint: "选择两个或更多图层，比对它们的当前版本",
    compare_run: "比对", need_two: "请至少选择两个图层", comparing: "比对中…",
    streets_title: "各街道冲突面积（公顷）", streets_hint: "点击街道（图表、地图或表格）筛选冲突图斑清单",
    no_streets: "没有冲突图斑", patch: "冲突图斑 #{id}", rule: "冲突规则", area: "面积",
    hectares: "{ha} 公顷", location: "位置", side_a: "甲方", side_b: "乙方", layer: "图层",
    class_code: "分类代码", class_name: "分类名称", source_class: "原始分类", fid: "源要素编号",
    attributes: "属性", outside_b: "乙方图层范围之外（无对应要素）", case: "案件", no_case: "尚未立案",
    open_in_console: "在调度台查看", resolution: "处理结果", not_resolved: "尚未处理",
    resolved_by: "处理人", resolved_at: "处理时间", open_case: "立案交办", record_resolution: "记录处理结果",
    confirm: "确定", cancel: "取消", failed: "操作失败", res_revise_a: "调整甲方规划",
    res_revise_b: "调整乙方规划", res_exception: "依法保留", res_data_error: "数据误差，非实际冲突",
    case_opened_msg: "已立案交办：案件 #{id}", feature: "要素 #{id}", grid: "网格", code: "编码",
    name: "名称", loading: "加载中…", no_patch: "在地图或清单中点选冲突图斑查看详情",
    cs_reported: "上报", cs_verifying: "待核实", cs_accepted: "已受理", cs_filed: "已立案",
    cs_handling: "处置中", cs_deferred: "挂账", cs_handled: "已处置", cs_checking: "核查中",
    cs_checked: "核查通过", cs_closed: "已结案", cs_evaluated: "已评价", cs_cancelled: "已作废",
    difference: "差异类型", d_both_build: "两规均为建设用地", d_a_builds: "甲方建设、乙方非建设",
    d_b_builds: "乙方建设、甲方非建设", d_neither: "两规均为非建设用地", d_control_line: "与控制线冲突",
  },
  en: {
    title: "One map", login: "Log in", username: "Username", password: "Password", sign_in: "Log in",
    logout: "Log out", lang: "中文", bad_login: "Wrong username or password", nav_console: "Console", nav_enforcement: "Enforcement",
    nav_sensors: "Sensors", nav_video: "Video", layers: "Layers", g_plan: "Plans", g_base: "Present use",
    g_control_line: "Control lines", g_grids: "Grids", g_conflicts: "Conflicts",
    no_layers: "No layers yet. Import plans, present land use or control lines on the server with "
      + "cityops import layer, e.g.:",
    version: "version {v}", features: "{n} features", opacity: "Opacity", fit: "Zoom to",
    grids: "Management grids", conflicts_layer: "Conflict patches of the latest comparison",
    no_conflict_layer: "No comparison yet", legend_empty: "Tick a layer to see its legend",
    no_class: "Unclassified", line_ecological_red_line: "Ecological red line",
    line_permanent_farmland: "Permanent farmland", line_urban_boundary: "Urban development boundary",
    tab_report: "Report", tab_streets: "By street", tab_patch: "Patch",
    no_run: "No comparison has finished yet. Compare two or more layers on the server with "
      + "cityops conflicts, e.g.:",
    no_run_planner: "or pick the layers here and compare them:",
    run: "Plan comparison", run_number: "run {id}", run_layers: "Layers compared", run_state: "State",
    patch_total: "Conflict patches", total_area: "Total conflict area", dropped: "Slivers dropped",
    dropped_value: "{area} too small, {width} too narrow, {m2} m² in all", finished: "Finished",
    started_by: "Started by", note: "Note", run_finished: "Finished", run_running: "Running",
    run_failed: "Failed", download: "Download:", dl_gpkg: "Patches (GeoPackage)",
    dl_pairs: "By class pair (XLSX)", dl_streets: "By street (XLSX)", by_pair: "By class pair",
    pair: "Classes in conflict", patches: "Patches", area_ha: "Area (ha)", area_m2: "Area (m²)",
    st_open: "Open", st_case_opened: "Case opened", st_resolved: "Resolved", patch_list: "Conflict patches",
    all_streets: "All streets", all_states: "All states", all_rules: "All rules", count: "{n} in all",
    no_patches: "No patches match", prev: "Previous", next: "Next", page_of: "{from}–{to} of {n}",
    street: "Street", state: "State", outside_street: "Outside the streets",
    compare: "New comparison", compare_title: "Compare plans",
    compare_hint: "Pick two or more layers: their current versions are compared", compare_run: "Compare",
    need_two: "Pick at least two layers", comparing: "Comparing…",
    streets_title: "Conflict area by street (ha)",
    streets_hint: "Click a street (chart, map or table) to filter the patch list", no_streets: "No conflicts",
    patch: "Conflict patch #{id}", rule: "Rule", area: "Area", hectares: "{ha} ha", location: "Location",
    side_a: "Side A", side_b: "Side B", layer: "Layer", class_code: "Class code", class_name: "Class",
    source_class: "Source class", fid: "Source feature", attributes: "Attributes",
    outside_b: "Outside every feature of side B's layer", case: "Case", no_case: "No case yet",
    open_in_console: "Open in the console", resolution: "Resolution", not_resolved: "Not resolved yet",
    resolved_by: "Resolved by", resolved_at: "Resolved", open_case: "Open a case",
    record_resolution: "Record the resolution", confirm: "Confirm", cancel: "Cancel", failed: "Action failed",
    res_revise_a: "Revise side A's plan", res_revise_b: "Revise side B's plan",
    res_exception: "Kept by lawful exception", res_data_error: "Data error, no real conflict",
    case_opened_msg: "Case #{id} opened and handed over", feature: "Feature #{id}", grid: "Grid",
    code: "Code", name: "Name", loading: "Loading…", no_patch: "Pick a conflict patch on the map or in the list",
    cs_reported: "Reported", cs_verifying: "Verifying", cs_accepted: "Accepted", cs_filed: "Filed",
    cs_handling: "Handling", cs_deferred: "Deferred", cs_handled: "Handled", cs_checking: "Checking",
    cs_checked: "Checked", cs_closed: "Closed", cs_evaluated: "Evaluated", cs_cancelled: "Cancelled",
    difference: "Difference", d_both_build: "Both plans build", d_a_builds: "Side A builds, side B does not",
    d_b_builds: "Side B builds, side A does not", d_neither: "Neither plan builds",
    d_control_line: "Against a control line",
  },
};

const GROUPS = ["plan", "base", "control_line", "grids", "conflicts"];
// Control lines are outlines without fill; plans and present use are filled by class.
const LINES = {
  ecological_red_line: { color: "#e02424", weight: 2.5 },
  permanent_farmland: { color: "#b7791f", weight: 2.5 },
  urban_boundary: { color: "#805ad5", weight: 2.5, dashArray: "8 6" },
};
const OTHER_LINE = { color: "#2d3748", weight: 2 };
const STATES = ["open", "case_opened", "resolved"];
const STATE_COLOURS = { open: "#e02424", case_opened: "#dd6b20", resolved: "#718096" };
const NO_CLASS = "#cbd5e0";
const GRID_STYLE = { color: "#2b6cb0", weight: 1, opacity: 0.9, dashArray: "3 4", fill: false };
// Conflict area by street, from little to much.
const RAMP = ["#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15"];
// Where the layers are drawn, bottom to top: the conflicts above everything.
const PANES = { base: 410, plan: 420, control_line: 430, grids: 440, streets: 450, conflicts: 460, chosen: 470 };
const PAGE = 20;
const HECTARE = 10000;
const FALLBACK_CENTRE = [29.561, 106.572];
const PLANNERS = new Set((document.documentElement.dataset.planningRoles || "").split(" ").filter(Boolean));
const RESOLVERS = new Set(["planner", "admin"]);
const EXPORTS = { gpkg: ["gpkg", "pairs"], "xlsx-pairs": ["xlsx", "pairs"], "xlsx-streets": ["xlsx", "streets"] };

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const $ = (selector, root = document) => root.querySelector(selector);

let me = null;
let map = null;
let legend = null;
let chart = null;
let layers = []; // the API's layers
const classes = new Map(); // class code → { name, name_en, colour, … }
const overlays = new Map(); // "layer:<name>" | "grids" | "conflicts" → { grid, visible, opacity }
let summary = null; // the latest run with its tables, or null before the first
let patches = { total: 0, items: [] };
let offset = 0;
let streetAreas = new Map(); // street code → { open, case_opened, resolved } in m²
let streetRegions = []; // the district's streets with their outlines
let streetShapes = null;
let chosen = null; // the patch shown (its detail)
let chosenShape = null;
let view = "report";
let resolving = false;
let notice = "";
let fitted = false;
let patchesAsked = 0;
let chosenAsked = 0;

const mayPlan = () => Boolean(me?.roles.some((role) => PLANNERS.has(role)));
const mayResolve = (p) => Boolean(me?.roles.some((role) => RESOLVERS.has(role))
  || (me?.roles.includes("department_handler") && p.case_id != null));
const zh = () => ui.lang === "zh";
const number = (value, digits = 2) => Number(value).toLocaleString(zh() ? "zh-CN" : "en-GB", {
  minimumFractionDigits: digits, maximumFractionDigits: digits,
});
const hectares = (m2) => number(m2 / HECTARE);
const aside = (text) => (zh() ? `（${text}）` : ` (${text})`);
const areaText = (m2) => `${number(m2)} m²${aside(t("hectares", { ha: hectares(m2) }))}`;

// -- session ------------------------------------------------------------------------------

function showLogin() {
  me = null;
  token.clear();
  for (const entry of overlays.values()) entry.grid?.remove();
  overlays.clear();
  chosenShape?.remove();
  chosen = null;
  chosenShape = null;
  resolving = false;
  notice = "";
  map?.closePopup();
  $("#login").hidden = false;
  $("#board").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
}
whenUnauthorized(showLogin);

async function start() {
  try {
    me = await api("/auth/me");
  } catch {
    showLogin();
    return;
  }
  $("#login").hidden = true;
  $("#board").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  startMap();
  try {
    await Promise.all([loadClasses(), loadStreets().catch(() => {})]);
    await loadLayers();
    await loadRun();
  } catch (exc) {
    if (exc.status !== 401) showSideError(exc);
  }
}

// -- the map ------------------------------------------------------------------------------

function startMap() {
  if (map) return;
  map = L.map("map", { attributionControl: false, minZoom: 3 }).setView(FALLBACK_CENTRE, 15);
  const tiles = document.documentElement.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 20, maxNativeZoom: 19 }).addTo(map);
  for (const [name, z] of Object.entries(PANES)) map.createPane(name).style.zIndex = String(z);
  legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const box = L.DomUtil.create("div", "legend");
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  legend.addTo(map);
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
}

// A layer's tiles name its version: they never change, and the browser keeps them for good.
function tileUrl(collection, version) {
  const pinned = version ? `?v=${version}` : "";
  return `/ogcapi/collections/${encodeURIComponent(collection)}/tiles/WebMercatorQuad/{z}/{y}/{x}${pinned}`;
}

// A collection's vector tiles (OGC API – Tiles, MVT); each tile holds one layer named after
// the collection.
function vectorLayer(collection, pane, style, version = null) {
  const grid = L.vectorGrid.protobuf(tileUrl(collection, version), {
    pane, interactive: true, maxZoom: 22, vectorTileLayerStyles: { [collection]: style },
    fetchOptions: { headers: { Authorization: `Bearer ${token.get()}` } },
  });
  grid.on("click", (event) => {
    L.DomEvent.stop(event);
    clicked(collection, event).catch(showSideError);
  });
  return grid;
}

function colourOf(code) {
  if (!code) return NO_CLASS;
  for (let n = code.length; n >= 2; n -= 2) {
    const found = classes.get(code.slice(0, n));
    if (found) return found.colour;
  }
  return NO_CLASS;
}

function layerStyle(layer) {
  if (layer.kind === "control_line") {
    const line = LINES[layer.line] || OTHER_LINE;
    return () => ({ ...line, opacity: 1, fill: false, className: `feature line layer-${layer.name}` });
  }
  return (p) => ({
    fill: true, fillColor: colourOf(p.class_code), fillOpacity: 0.75, color: "#4a5568", weight: 0.6,
    opacity: 0.7, className: `feature layer-${layer.name}`,
  });
}

function conflictStyle(p) {
  const colour = STATE_COLOURS[p.state] || STATE_COLOURS.open;
  return {
    fill: true, fillColor: `url(#hatch-${p.state in STATE_COLOURS ? p.state : "open"})`, fillOpacity: 1,
    color: colour, weight: 3, opacity: 1, className: `conflict state-${p.state}`,
  };
}

function overlay(key) {
  return overlays.get(key);
}

function ensureOverlay(key, make, visible) {
  let entry = overlays.get(key);
  if (!entry) {
    entry = { grid: make(), visible, opacity: 1 };
    overlays.set(key, entry);
  }
  show(key, entry.visible);
  return entry;
}

function show(key, visible) {
  const entry = overlays.get(key);
  if (!entry) return;
  entry.visible = visible;
  if (visible && !map.hasLayer(entry.grid)) entry.grid.addTo(map);
  if (!visible && map.hasLayer(entry.grid)) entry.grid.remove();
  entry.grid.setOpacity(entry.opacity);
  renderLegend();
}

function fitTo(bbox) {
  if (!bbox) return;
  const [x0, y0, x1, y1] = bbox;
  map.fitBounds([[y0, x0], [y1, x1]], { padding: [24, 24], maxZoom: 18 });
}

function unionBox(boxes) {
  const found = boxes.filter(Boolean);
  if (!found.length) return null;
  return [0, 1, 2, 3].map((i) => (i < 2 ? Math.min : Math.max)(...found.map((b) => b[i])));
}

// -- reference data -----------------------------------------------------------------------

async function loadClasses() {
  for (const c of await api("/onemap/classes")) classes.set(c.code, c);
}

async function loadStreets() {
  const page = await api("/regions?level=street&limit=500");
  streetRegions = page.items.filter((r) => r.geometry);
}

function className(code, fallback = "") {
  if (!code) return t("no_class");
  if (code.startsWith("line:")) return t(`line_${code.slice(5)}`);
  const found = classes.get(code);
  if (!found) return fallback || code;
  return zh() ? found.name : found.name_en || found.name;
}

function layerTitle(name) {
  return layers.find((l) => l.name === name)?.title
    || summary?.run.layers.find((l) => l.name === name)?.title || name;
}

// -- the layer tree -----------------------------------------------------------------------

async function loadLayers() {
  layers = await api("/onemap/layers");
  for (const layer of layers) {
    const pane = PANES[layer.kind] ? layer.kind : "plan";
    const make = () => vectorLayer(layer.collection, pane, layerStyle(layer), layer.version);
    ensureOverlay(`layer:${layer.name}`, make, true);
  }
  ensureOverlay("grids", () => vectorLayer("grids", "grids", () => ({ ...GRID_STYLE, className: "grid" })), false);
  if (!fitted) {
    fitted = true;
    // The layers, or the district's streets before there are any.
    const box = unionBox(layers.map((l) => l.bbox)) || unionBox(streetRegions.map((r) => r.bbox));
    if (box) fitTo(box);
  }
  renderTree();
  renderCompare();
}

function renderTree() {
  const groups = $("#groups");
  groups.replaceChildren();
  $("#no-layers").hidden = layers.length > 0;
  for (const group of GROUPS) {
    const rows = [];
    if (group === "grids") {
      rows.push(treeRow("grids", t("grids"), null, null));
    } else if (group === "conflicts") {
      if (summary) {
        const meta = `${t("run_number", { id: summary.run.id })} · ${t("count", { n: summary.run.patch_count })}`;
        rows.push(treeRow("conflicts", t("conflicts_layer"), meta, boxOfPatches()));
      } else {
        rows.push(muted(t("no_conflict_layer")));
      }
    } else {
      for (const layer of layers.filter((l) => l.kind === group)) {
        const meta = `${t("version", { v: layer.version })} · ${t("features", { n: layer.feature_count })}`;
        rows.push(treeRow(`layer:${layer.name}`, layer.title, meta, layer.bbox, layer));
      }
      if (!rows.length) continue;
    }
    const section = document.createElement("section");
    section.className = "group";
    section.dataset.group = group;
    const heading = document.createElement("h3");
    heading.textContent = t(`g_${group}`);
    section.append(heading, ...rows);
    groups.append(section);
  }
}

function treeRow(key, title, meta, bbox, layer = null) {
  const entry = overlay(key);
  const row = document.createElement("div");
  row.className = "tree-row";
  row.dataset.key = key;
  if (layer) row.dataset.layer = layer.name;
  const label = document.createElement("label");
  label.className = "check";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = Boolean(entry?.visible);
  box.addEventListener("change", () => show(key, box.checked));
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  paintSwatch(swatch, key, layer);
  const name = document.createElement("span");
  name.className = "title";
  name.textContent = title;
  label.append(box, swatch, name);
  row.append(label);
  if (meta) {
    const info = document.createElement("div");
    info.className = "meta muted";
    info.textContent = meta;
    row.append(info);
  }
  const tools = document.createElement("div");
  tools.className = "tools";
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = "100";
  slider.value = String(Math.round((entry?.opacity ?? 1) * 100));
  slider.title = t("opacity");
  slider.setAttribute("aria-label", `${t("opacity")} ${title}`);
  slider.addEventListener("input", () => {
    if (!entry) return;
    entry.opacity = Number(slider.value) / 100;
    entry.grid.setOpacity(entry.opacity);
  });
  tools.append(slider);
  if (bbox) {
    const fit = document.createElement("button");
    fit.type = "button";
    fit.className = "link fit";
    fit.textContent = t("fit");
    fit.addEventListener("click", () => fitTo(bbox));
    tools.append(fit);
  }
  row.append(tools);
  return row;
}

function paintSwatch(swatch, key, layer) {
  if (key === "conflicts") {
    swatch.classList.add("hatch");
  } else if (key === "grids") {
    swatch.classList.add("outline");
    swatch.style.borderColor = GRID_STYLE.color;
    swatch.style.borderStyle = "dashed";
  } else if (layer?.kind === "control_line") {
    const line = LINES[layer.line] || OTHER_LINE;
    swatch.classList.add("outline");
    swatch.style.borderColor = line.color;
    if (line.dashArray) swatch.style.borderStyle = "dashed";
  } else {
    const codes = Object.keys(layer?.classes || {}).filter(Boolean);
    swatch.style.background = codes.length ? colourOf(codes[0]) : NO_CLASS;
  }
}

function boxOfPatches() {
  return unionBox(patches.items.map((p) => p.bbox));
}

// -- the legend: the classes of the layers in view ----------------------------------------

function renderLegend() {
  const box = legend?.getContainer();
  if (!box) return;
  const counts = new Map();
  const lines = new Set();
  for (const layer of layers) {
    if (!overlay(`layer:${layer.name}`)?.visible) continue;
    if (layer.kind === "control_line") {
      lines.add(layer.line || "");
      continue;
    }
    for (const [code, n] of Object.entries(layer.classes)) counts.set(code, (counts.get(code) || 0) + n);
  }
  const rows = [];
  for (const code of [...counts.keys()].sort()) {
    const swatch = document.createElement("span");
    swatch.className = "swatch square";
    swatch.style.background = colourOf(code);
    rows.push(legendRow(swatch, code ? `${code} ${className(code)}` : t("no_class"), counts.get(code), code));
  }
  for (const line of lines) {
    const style = LINES[line] || OTHER_LINE;
    const swatch = document.createElement("span");
    swatch.className = "swatch square outline";
    swatch.style.borderColor = style.color;
    if (style.dashArray) swatch.style.borderStyle = "dashed";
    rows.push(legendRow(swatch, line ? t(`line_${line}`) : t("g_control_line"), null, `line:${line}`));
  }
  if (overlay("grids")?.visible) {
    const swatch = document.createElement("span");
    swatch.className = "swatch square outline";
    swatch.style.borderColor = GRID_STYLE.color;
    swatch.style.borderStyle = "dashed";
    rows.push(legendRow(swatch, t("grids"), null, "grids"));
  }
  if (overlay("conflicts")?.visible) {
    for (const state of STATES) {
      const swatch = document.createElement("span");
      swatch.className = `swatch square hatch ${state}`;
      rows.push(legendRow(swatch, `${t("g_conflicts")} · ${t(`st_${state}`)}`, null, `state:${state}`));
    }
  }
  box.replaceChildren(...(rows.length ? rows : [muted(t("legend_empty"))]));
}

function legendRow(swatch, label, count, key) {
  const row = document.createElement("div");
  row.dataset.legend = key;
  const text = document.createElement("span");
  text.textContent = label;
  row.append(swatch, text);
  if (count != null) row.append(muted(` ${count}`));
  return row;
}

// -- a click on the map: a feature's attributes, or a conflict patch -----------------------

async function clicked(collection, event) {
  const p = event.layer?.properties || {};
  if (collection === "conflicts") {
    if (p.id != null) await choosePatch(Number(p.id), { fit: false });
    return;
  }
  const id = collection === "grids" ? p.code : p.id;
  if (id == null) return;
  const popup = L.popup({ maxWidth: 420, maxHeight: 360, className: "feature-popup" })
    .setLatLng(event.latlng).setContent(muted(t("loading"))).openOn(map);
  const href = `/ogcapi/collections/${encodeURIComponent(collection)}/items/${encodeURIComponent(id)}`;
  const response = await fetch(href, {
    headers: { Authorization: `Bearer ${token.get()}`, Accept: "application/geo+json" },
  });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  const item = await response.json();
  popup.setContent(collection === "grids" ? gridCard(item) : featureCard(collection, item));
}

function featureCard(collection, item) {
  const layer = layers.find((l) => l.collection === collection);
  const props = item.properties || {};
  const card = document.createElement("div");
  card.className = "feature-card";
  card.dataset.collection = collection;
  card.dataset.featureId = item.id;
  const head = document.createElement("h3");
  head.textContent = layer?.title || collection;
  card.append(head, muted(t("feature", { id: item.id })));
  const facts = document.createElement("dl");
  facts.className = "facts";
  addFact(facts, "class_code", props.class_code || "—");
  addFact(facts, "class_name", layer?.kind === "control_line" ? t(`line_${layer.line}`) : className(props.class_code));
  addFact(facts, "source_class", props.source_class ?? "—");
  addFact(facts, "fid", props.fid ?? "—");
  if (props.area_m2 != null) addFact(facts, "area", areaText(props.area_m2));
  card.append(facts, attributeTable(props));
  return card;
}

function gridCard(item) {
  const card = document.createElement("div");
  card.className = "feature-card";
  const head = document.createElement("h3");
  head.textContent = t("grid");
  const facts = document.createElement("dl");
  facts.className = "facts";
  addFact(facts, "code", item.properties.code);
  addFact(facts, "name", item.properties.name);
  card.append(head, facts, attributeTable(item.properties));
  return card;
}

function attributeTable(props) {
  const wrap = document.createElement("div");
  const title = document.createElement("h4");
  title.textContent = t("attributes");
  const table = document.createElement("table");
  table.className = "attributes";
  for (const [key, value] of Object.entries(props || {})) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = key;
    const td = document.createElement("td");
    td.textContent = value == null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    tr.append(th, td);
    table.append(tr);
  }
  wrap.append(title, table);
  return wrap;
}

function addFact(list, key, value) {
  const dt = document.createElement("dt");
  dt.textContent = t(key);
  const dd = document.createElement("dd");
  dd.dataset.fact = key;
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value == null ? "" : String(value);
  list.append(dt, dd);
  return dd;
}

function muted(text) {
  const span = document.createElement("span");
  span.className = "muted";
  span.textContent = text;
  return span;
}

// -- the latest run and its report --------------------------------------------------------

async function loadRun() {
  try {
    summary = await api("/onemap/conflicts/runs/latest");
  } catch (exc) {
    if (exc.status !== 404) throw exc;
    summary = null;
  }
  if (summary) {
    const make = () => vectorLayer("conflicts", "conflicts", conflictStyle);
    ensureOverlay("conflicts", make, overlay("conflicts")?.visible ?? true);
  }
  renderRun();
  renderFilters();
  await Promise.all([loadPatches(), loadStreetAreas()]);
  renderTree();
}

// After an action: the report's counts, the list, the cockpit and the tiles all change.
async function refreshRun() {
  summary = await api(`/onemap/conflicts/runs/${summary.run.id}`);
  overlay("conflicts")?.grid.redraw();
  renderRun();
  await Promise.all([loadPatches(), loadStreetAreas()]);
}

function renderRun() {
  $("#no-run").hidden = Boolean(summary);
  $("#no-run-planner").hidden = !mayPlan() || layers.length < 2;
  $("#run").hidden = !summary;
  renderCompare();
  if (!summary) {
    renderStreets();
    return;
  }
  const run = summary.run;
  $("#run-number").textContent = t("run_number", { id: run.id });
  const facts = $("#run-facts");
  facts.replaceChildren();
  const compared = run.layers.map((l) => `${l.title}${aside(t("version", { v: l.version }))}`).join(zh() ? "、" : ", ");
  addFact(facts, "run_layers", compared);
  addFact(facts, "run_state", t(`run_${run.state}`));
  addFact(facts, "patch_total", t("count", { n: run.patch_count }));
  addFact(facts, "total_area", areaText(run.total_area_m2));
  addFact(facts, "dropped", t("dropped_value", {
    area: run.dropped_by_area, width: run.dropped_by_width, m2: number(run.dropped_area_m2),
  }));
  addFact(facts, "finished", formatTime(run.finished_at, ui.lang));
  addFact(facts, "started_by", run.started_by.split(":").pop());
  if (run.note) addFact(facts, "note", run.note);
  $("#pair-rows").replaceChildren(...summary.by_pair.map((pair) => {
    const tr = document.createElement("tr");
    tr.dataset.rule = pair.rule;
    tr.title = pair.rule;
    tr.append(
      cell([pairLabel(pair), document.createElement("br"), muted(pairLayers(pair))]),
      cell(pair.patches, "num"), cell(hectares(pair.area_m2), "num"),
      cell(pair.open, "num"), cell(pair.case_opened, "num"), cell(pair.resolved, "num"),
    );
    tr.addEventListener("click", () => {
      $("#filter-rule").value = pair.rule;
      filtersChanged();
    });
    return tr;
  }));
  renderStreets();
}

function pairLayers(p) {
  return `${layerTitle(p.layer_a)} × ${layerTitle(p.layer_b)}`;
}

function pairLabel(p) {
  return `${className(p.class_a, p.class_a_name)} × ${className(p.class_b, p.class_b_name)}`;
}

function cell(content, className = "") {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (Array.isArray(content)) td.append(...content);
  else td.textContent = String(content);
  return td;
}

function renderFilters() {
  const street = $("#filter-street");
  const streetValue = street.value;
  const streets = (summary?.by_street || []).filter((s) => s.street_code);
  street.replaceChildren(new Option(t("all_streets"), ""), ...streets.map((s) => new Option(s.street, s.street_code)));
  street.value = streets.some((s) => s.street_code === streetValue) ? streetValue : "";
  const rule = $("#filter-rule");
  const ruleValue = rule.value;
  const rules = [...new Map((summary?.by_pair || []).map((p) => [p.rule, p])).values()];
  const options = rules.map((p) => new Option(`${p.rule}${aside(pairLabel(p))}`, p.rule));
  rule.replaceChildren(new Option(t("all_rules"), ""), ...options);
  rule.value = rules.some((p) => p.rule === ruleValue) ? ruleValue : "";
  for (const option of $("#filter-state").options) option.textContent = t(option.dataset.t);
}

function filtersChanged() {
  offset = 0;
  loadPatches().catch(showSideError);
}

async function loadPatches() {
  if (!summary) {
    patches = { total: 0, items: [] };
    return;
  }
  const form = new FormData($("#patch-filters"));
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const name of ["street", "state", "rule"]) if (form.get(name)) params.set(name, form.get(name));
  const asked = ++patchesAsked;
  const page = await api(`/onemap/conflicts/runs/${summary.run.id}/patches?${params}`);
  if (asked !== patchesAsked) return;
  patches = page;
  renderPatches();
}

function renderPatches() {
  $("#patch-rows").replaceChildren(...patches.items.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.patchId = p.id;
    tr.dataset.state = p.state;
    if (chosen?.id === p.id) tr.className = "open";
    tr.append(
      cell(p.id), cell([pairLabel(p), document.createElement("br"), muted(p.rule)]),
      cell(p.street || t("outside_street")), cell(number(p.area_m2), "num"), cell([stateBadge(p.state)]),
    );
    tr.addEventListener("click", () => choosePatch(p.id).catch(showSideError));
    return tr;
  }));
  $("#patches-empty").hidden = patches.items.length > 0;
  $("#patch-count").textContent = t("count", { n: patches.total });
  const last = offset + patches.items.length;
  $("#page-of").textContent = patches.total ? t("page_of", { from: offset + 1, to: last, n: patches.total }) : "";
  $("#prev-page").disabled = offset === 0;
  $("#next-page").disabled = last >= patches.total;
}

function stateBadge(state) {
  const badge = document.createElement("span");
  badge.className = `state-badge ${state}`;
  badge.dataset.state = state;
  badge.textContent = t(`st_${state}`);
  return badge;
}

async function download(kind) {
  const [f, table] = EXPORTS[kind];
  const response = await fetch(`/api/v1/onemap/conflicts/runs/${summary.run.id}/export?f=${f}&table=${table}`, {
    headers: { Authorization: `Bearer ${token.get()}` },
  });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(response.headers.get("content-disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = named ? decodeURIComponent(named[1]) : `conflicts-${summary.run.id}.${f}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

// -- comparing layers (planners) ----------------------------------------------------------

function renderCompare() {
  const may = mayPlan() && layers.length >= 2;
  $("#compare-open").hidden = !may || !$("#compare").hidden;
  const picks = $("#compare-layers");
  const ticked = new Set([...picks.querySelectorAll("input:checked")].map((box) => box.value));
  picks.replaceChildren(...layers.map((layer) => {
    const label = document.createElement("label");
    label.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "layers";
    box.value = layer.name;
    box.checked = ticked.has(layer.name);
    const text = document.createElement("span");
    text.textContent = `${layer.title}${aside(`${t(`g_${layer.kind}`)} · ${t("version", { v: layer.version })}`)}`;
    label.append(box, text);
    return label;
  }));
  if (!may) $("#compare").hidden = true;
}

async function runComparison(event) {
  event.preventDefault();
  const form = event.target;
  const chosenLayers = [...form.querySelectorAll("input[name=layers]:checked")].map((box) => box.value);
  const error = $("#compare-error");
  error.hidden = true;
  if (chosenLayers.length < 2) {
    error.textContent = t("need_two");
    error.hidden = false;
    return;
  }
  const submit = $("button[type=submit]", form);
  submit.disabled = true;
  submit.textContent = t("comparing");
  try {
    await api("/onemap/conflicts/runs", {
      method: "POST", json: { layers: chosenLayers, note: form.elements.note.value.trim() },
    });
    form.hidden = true;
    form.reset();
    offset = 0;
    await loadRun();
    showView("report");
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
  } finally {
    submit.disabled = false;
    submit.textContent = t("compare_run");
  }
}

// -- the cockpit: conflict area by street -------------------------------------------------

// The chart stacks each street's area by state, as the summary gives it.
async function loadStreetAreas() {
  const areas = new Map();
  for (const s of summary?.by_street || []) {
    areas.set(s.street_code || "", {
      open: s.open_area_m2 || 0, case_opened: s.case_opened_area_m2 || 0, resolved: s.resolved_area_m2 || 0,
    });
  }
  streetAreas = areas;
  renderStreets();
}

function streetRows() {
  return summary?.by_street || [];
}

function renderStreets() {
  const rows = streetRows();
  $("#streets-empty").hidden = rows.length > 0;
  $("#street-rows").replaceChildren(...rows.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.street = s.street_code;
    if (s.street_code && $("#filter-street").value === s.street_code) tr.className = "open";
    tr.append(
      cell(s.street_code ? s.street : t("outside_street")), cell(s.patches, "num"), cell(hectares(s.area_m2), "num"),
      cell(s.open, "num"), cell(s.case_opened, "num"), cell(s.resolved, "num"),
    );
    tr.addEventListener("click", () => filterByStreet(s.street_code));
    return tr;
  }));
  if (view === "streets") drawChart();
  drawStreetShapes();
}

function drawChart() {
  const box = $("#street-chart");
  const rows = [...streetRows()].reverse(); // the largest at the top
  box.style.height = `${Math.max(180, 90 + 36 * rows.length)}px`;
  chart ??= echarts.init(box);
  const names = rows.map((s) => (s.street_code ? s.street : t("outside_street")));
  chart.setOption({
    animation: false,
    grid: { left: 8, right: 24, top: 32, bottom: 24, containLabel: true },
    legend: { top: 0 },
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => t("hectares", { ha: number(v) }),
    },
    xAxis: { type: "value", name: t("area_ha"), nameLocation: "middle", nameGap: 24 },
    yAxis: { type: "category", data: names },
    series: STATES.map((state) => ({
      id: state, name: t(`st_${state}`), type: "bar", stack: "area", itemStyle: { color: STATE_COLOURS[state] },
      data: rows.map((s) => Number(((streetAreas.get(s.street_code)?.[state] || 0) / HECTARE).toFixed(4))),
    })),
  }, { notMerge: true });
  chart.off("click");
  chart.on("click", (params) => filterByStreet(rows[params.dataIndex]?.street_code));
  box.dataset.streets = names.join(",");
  chart.resize();
}

function drawStreetShapes() {
  if (!map) return;
  streetShapes?.remove();
  streetShapes = null;
  if (view !== "streets" || !summary) return;
  const byCode = new Map(streetRows().map((s) => [s.street_code, s]));
  const most = Math.max(0, ...streetRows().map((s) => s.area_m2));
  const features = streetRegions.map((r) => ({
    type: "Feature", geometry: r.geometry, properties: { code: r.code, name: r.name },
  }));
  streetShapes = L.geoJSON({ type: "FeatureCollection", features }, {
    pane: "streets",
    style: (f) => {
      const s = byCode.get(f.properties.code);
      const step = s && most ? Math.min(RAMP.length - 1, Math.floor((s.area_m2 / most) * (RAMP.length - 1))) : -1;
      return {
        color: "#742a2a", weight: 1.5, fillOpacity: s ? 0.4 : 0.08, fillColor: step >= 0 ? RAMP[step] : "#f7fafc",
        className: `street street-${f.properties.code}`,
      };
    },
    onEachFeature: (f, shape) => {
      const s = byCode.get(f.properties.code);
      const counted = s ? ` · ${t("count", { n: s.patches })} · ${t("hectares", { ha: hectares(s.area_m2) })}` : "";
      const label = `${f.properties.name}${counted}`;
      shape.bindTooltip(label, { permanent: true, direction: "center", className: "street-label" });
      shape.on("click", () => filterByStreet(f.properties.code));
    },
  }).addTo(map);
}

function filterByStreet(code) {
  if (code === undefined) return;
  const select = $("#filter-street");
  select.value = [...select.options].some((o) => o.value === code) ? code : "";
  showView("report");
  filtersChanged();
  $("#patch-filters").scrollIntoView({ block: "start" });
}

// -- a patch in detail --------------------------------------------------------------------

async function choosePatch(id, { fit = true } = {}) {
  const asked = ++chosenAsked;
  const detail = await api(`/onemap/conflicts/${id}`);
  if (asked !== chosenAsked) return;
  if (chosen?.id !== id) {
    resolving = false;
    notice = "";
  }
  chosen = detail;
  drawChosen(fit);
  renderChosen();
  renderPatches();
  showView("patch");
}

function drawChosen(fit) {
  chosenShape?.remove();
  chosenShape = null;
  if (!chosen?.geometry) return;
  chosenShape = L.geoJSON(chosen.geometry, {
    pane: "chosen", interactive: false,
    style: { color: "#1a202c", weight: 3, dashArray: "6 4", fill: false, className: "chosen-patch" },
  }).addTo(map);
  if (fit) map.fitBounds(chosenShape.getBounds(), { padding: [60, 60], maxZoom: 18 });
}

function renderChosen() {
  const body = $("#patch-body");
  $("#view-patch").dataset.patchId = chosen?.id ?? "";
  if (!chosen) {
    body.replaceChildren(muted(t("no_patch")));
    $("#open-case").hidden = true;
    $("#resolve-open").hidden = true;
    $("#resolve").hidden = true;
    return;
  }
  const p = chosen;
  const head = document.createElement("header");
  head.className = "detail-head";
  const title = document.createElement("h2");
  title.textContent = t("patch", { id: p.id });
  head.append(title, stateBadge(p.state));
  const facts = document.createElement("dl");
  facts.className = "facts";
  addFact(facts, "pair", pairLabel(p));
  addFact(facts, "rule", p.rule);
  if (p.difference) addFact(facts, "difference", t(`d_${p.difference}`));
  addFact(facts, "area", areaText(p.area_m2));
  addFact(facts, "street", p.street || t("outside_street"));
  addFact(facts, "location", `${p.lon.toFixed(6)}, ${p.lat.toFixed(6)}`);
  const caseValue = document.createElement("span");
  if (p.case_id != null) {
    const link = document.createElement("a");
    link.href = `/console/#case/${p.case_id}`;
    link.className = "case-link";
    link.textContent = `#${p.case_id}`;
    link.title = t("open_in_console");
    caseValue.append(link, p.case_state ? ` · ${t(`cs_${p.case_state}`)}` : "");
  } else {
    caseValue.textContent = t("no_case");
  }
  addFact(facts, "case", caseValue);
  addFact(facts, "resolution", p.resolution ? t(`res_${p.resolution}`) : t("not_resolved"));
  if (p.resolution) {
    if (p.resolution_note) addFact(facts, "note", p.resolution_note);
    addFact(facts, "resolved_by", (p.resolved_by || "").split(":").pop());
    addFact(facts, "resolved_at", formatTime(p.resolved_at, ui.lang));
  }
  const sides = document.createElement("div");
  sides.className = "sides";
  sides.append(sideCard("side_a", p.layer_a, p.class_a, p.class_a_name, p.side_a),
    sideCard("side_b", p.layer_b, p.class_b, p.class_b_name, p.side_b));
  const parts = [head, facts];
  if (notice) {
    const note = document.createElement("p");
    note.className = "notice";
    note.id = "patch-notice";
    note.textContent = notice;
    parts.push(note);
  }
  body.replaceChildren(...parts, sides);
  $("#open-case").hidden = !(mayPlan() && p.case_id == null && p.state !== "resolved");
  $("#resolve-open").hidden = !(mayResolve(p) && p.state !== "resolved") || resolving;
  $("#resolve").hidden = !resolving;
}

function sideCard(key, layerName, code, name, side) {
  const card = document.createElement("section");
  card.className = "side";
  card.dataset.side = key;
  const head = document.createElement("h3");
  head.textContent = `${t(key)} · ${layerTitle(layerName)}`;
  const facts = document.createElement("dl");
  facts.className = "facts";
  addFact(facts, "class_code", code.startsWith("line:") ? "—" : code);
  addFact(facts, "class_name", className(code, name));
  card.append(head, facts);
  if (!side) {
    card.append(muted(t("outside_b")));
    return card;
  }
  addFact(facts, "source_class", side.source_class ?? "—");
  addFact(facts, "fid", side.fid);
  addFact(facts, "area", `${number(side.area_m2)} m²`);
  card.append(attributeTable(side.properties));
  return card;
}

async function openCase(button) {
  const error = $("#patch-error");
  error.hidden = true;
  button.disabled = true;
  try {
    const opened = await api(`/onemap/conflicts/${chosen.id}/case`, { method: "POST" });
    notice = t("case_opened_msg", { id: opened.case_id });
    await choosePatch(chosen.id, { fit: false });
    await refreshRun();
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function resolve(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#patch-error");
  error.hidden = true;
  const submit = $("button[type=submit]", form);
  submit.disabled = true;
  try {
    chosen = await api(`/onemap/conflicts/${chosen.id}/resolution`, {
      method: "POST", json: { resolution: form.elements.resolution.value, note: form.elements.note.value.trim() },
    });
    resolving = false;
    notice = "";
    form.reset();
    renderChosen();
    await refreshRun();
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

// -- views --------------------------------------------------------------------------------

function showView(name) {
  view = name;
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.classList.toggle("current", tab.dataset.view === name);
    tab.setAttribute("aria-selected", String(tab.dataset.view === name));
  }
  $(".tabs button[data-view=patch]").disabled = !chosen;
  for (const pane of document.querySelectorAll("#side .view")) pane.hidden = pane.id !== `view-${name}`;
  if (name === "streets") drawChart();
  drawStreetShapes();
}

function showSideError(exc) {
  const error = $("#side-error");
  error.textContent = `${t("failed")}: ${exc.message}`;
  error.hidden = false;
  setTimeout(() => { error.hidden = true; }, 8000);
}

// -- wiring -------------------------------------------------------------------------------

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  document.title = `${t("title")} · cityops`;
  renderLegend();
  if (!me) return;
  renderTree();
  renderCompare();
  renderRun();
  renderFilters();
  renderPatches();
  renderChosen();
  if (view === "streets") drawChart();
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
$("#patch-filters").addEventListener("submit", (event) => event.preventDefault());
$("#patch-filters").addEventListener("change", () => { filtersChanged(); renderStreets(); });
$("#prev-page").addEventListener("click", () => {
  offset = Math.max(0, offset - PAGE);
  loadPatches().catch(showSideError);
});
$("#next-page").addEventListener("click", () => {
  offset += PAGE;
  loadPatches().catch(showSideError);
});
for (const tab of document.querySelectorAll(".tabs button")) {
  tab.addEventListener("click", () => showView(tab.dataset.view));
}
for (const button of document.querySelectorAll("[data-export]")) {
  button.addEventListener("click", () => download(button.dataset.export).catch(showSideError));
}
$("#compare-open").addEventListener("click", () => {
  $("#compare").hidden = false;
  $("#compare-open").hidden = true;
});
$("#compare-cancel").addEventListener("click", () => {
  $("#compare").hidden = true;
  renderCompare();
});
$("#compare").addEventListener("submit", (event) => { runComparison(event).catch(showSideError); });
$("#open-case").addEventListener("click", (event) => openCase(event.currentTarget));
$("#resolve-open").addEventListener("click", () => {
  resolving = true;
  renderChosen();
  $("#resolve-note").focus();
});
$("#resolve-cancel").addEventListener("click", () => {
  resolving = false;
  renderChosen();
});
$("#resolve").addEventListener("submit", (event) => { resolve(event).catch(showSideError); });
window.addEventListener("resize", () => chart?.resize());
showView(view);
applyText();
if (token.get()) start();
else showLogin();
