// The dispatcher's console: work queues that update live, a case with its whole timeline, map
// and evidence, the actions the server allows this person, dispatch with suggestions, bulk
// actions on a queue, and a keyboard for all of it. Everything goes through /api/v1.

import { Live, api, blobUrl, formatTime, logIn, newKey, token, whenUnauthorized, words } from "./common.js";

const TEXT = {
  zh: {
    title: "调度台", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", online: "在线", offline: "离线", lang: "English", keys: "快捷键",
    close_help: "关闭", bad_login: "用户名或密码错误", search: "搜索描述、地址或案件编号（/）",
    all_classes: "全部类别", all_streets: "全部街道", all_sources: "全部来源", all_departments: "全部处置单位",
    number: "编号", class: "类别", place: "位置", state: "状态", due: "时限", source: "来源",
    empty: "队列为空", more: "更多", evidence: "现场照片与附件", timeline: "处置过程",
    no_evidence: "暂无附件", selected: "已选 {n} 件", note: "说明", note_required: "请填写说明",
    done: "完成 {ok} 件，失败 {failed} 件", working: "处理中 {done}/{all}…", confirm: "确定",
    cancel: "取消", suggested: "建议", override: "或指定", department: "部门", person: "人员",
    none: "（无）", open_tasks: "在办 {n} 件", failed: "操作失败", score: "评分",
    class_pick: "案件类别", class_later: "（由值班长立案时确定）", suggested_classes: "智能分类建议：",
    outcome: "结果", dispatch_suggested: "按建议派遣",
    reported_at: "上报时间", stage_due: "本环节时限", handle_due: "处置时限", region: "网格",
    handler: "处置单位", signals: "信号数", request: "待审批申请", late: "超时",
    no_suggestion: "无可用建议", new_case: "新案件",
    reason_responsible_department: "类别责任部门", reason_on_duty: "网格值班",
    reason_dispatch_rule: "派遣规则", reason_street_office: "属地街道",
    q_to_accept: "待受理", q_verifying: "核实中", q_to_file: "待立案", q_to_dispatch: "待派遣",
    q_awaiting_approval: "待审批", q_handling: "处置中", q_to_check: "待核查",
    q_checking: "核查中", q_to_close: "待结案", q_overdue: "超时",
    key_queue: "切换队列", key_move: "上一件/下一件", key_open: "打开案件", key_select: "选中/取消选中",
    key_search: "搜索", key_dispatch: "派遣（回车按首条建议）", key_action: "第一个可办操作",
    key_escape: "关闭表单", key_help: "本帮助", nav_sensors: "物联感知", nav_video: "视频监控", nav_onemap: "一张图", nav_enforcement: "执法工作台",
    hotline: "热线受理", callbacks: "回访", callbacks_due: "回访待办", no_callbacks: "暂无待回访的诉求",
    caller_says: "来电内容", caller_says_hint: "记录来电人所述的问题、地点和情况",
    call_suggested: "智能分类建议", other_class: "其他类别", no_other_class: "（不另选）",
    classifying: "正在识别类别…", no_class_guess: "未能识别类别",
    route_automatic_hint: "置信度达到 {threshold}%：提交后自动分类、分派",
    route_chosen_hint: "已选类别：{name}",
    route_call_taker_hint: "未选类别：提交后进入待受理队列，由受理员人工分类",
    map_hint: "在地图上点选事发地点，或直接输入坐标", lat: "纬度", lon: "经度", address: "地址（可选）",
    caller_name: "来电人姓名", caller_phone: "联系电话",
    bad_phone: "联系电话只能包含数字、空格、括号和连字符，至少 5 位", submit_call: "提交受理", new_call: "新来电",
    need_description: "请填写来电内容", need_place: "请在地图上点选事发地点或输入坐标",
    call_taken: "已受理", ticket: "工单编号", case: "案件", routing: "分派方式",
    routing_automatic: "自动分派", routing_chosen: "已选类别", routing_call_taker: "待人工分类",
    joined: "已并入在办案件（同一问题已有人反映）", joined_short: "并入在办案件", open_case: "查看案件",
    closed_at: "结案时间", caller: "来电人", phone: "电话", email: "邮箱",
    reached: "是否联系上", reached_yes: "已联系上", reached_no: "未联系上", rating: "满意度",
    no_rating: "未评价", callback_note: "回访记录", record_callback: "记录回访",
    need_reached: "请选择是否联系上", need_rating: "请选择市民的满意度", callback_saved: "回访已记录",
    callback_reopened: "回访已记录：市民不满意，案件已重新打开，回到待受理队列",
    residents_requests: "市民诉求", callback_list: "回访", resident_rating: "市民评价",
    anonymous: "（未留姓名）", masked: "已脱敏",
    key_hotline: "热线受理（新来电）", key_callbacks: "回访待办", key_submit_call: "提交受理",
  },
  en: {
    title: "Dispatch console", login: "Log in", username: "Username", password: "Password",
    sign_in: "Log in", logout: "Log out", online: "Online", offline: "Offline", lang: "中文",
    keys: "Keys", close_help: "Close", bad_login: "Wrong username or password",
    search: "Search description, address or case number (/)", all_classes: "All classes", all_departments: "All handlers",
    all_streets: "All streets", all_sources: "All sources", number: "Number", class: "Class",
    place: "Place", state: "State", due: "Due", source: "Source", empty: "Nothing waiting",
    more: "More", evidence: "Photos and files", timeline: "Timeline", no_evidence: "No files",
    selected: "{n} selected", note: "Note", note_required: "A note is required",
    done: "{ok} done, {failed} failed", working: "Working {done}/{all}…", confirm: "Confirm",
    cancel: "Cancel", suggested: "Suggested", override: "or choose", department: "Department",
    person: "Person", none: "(none)", open_tasks: "{n} open", failed: "Action failed",
    score: "Score", class_pick: "Class", class_later: "(the shift leader gives it when filing)",
    suggested_classes: "Suggested:", outcome: "Outcome",
    dispatch_suggested: "Dispatch as suggested", reported_at: "Reported",
    stage_due: "Stage due", handle_due: "Handling due", region: "Grid", handler: "Handler",
    signals: "Signals", request: "Request awaiting approval", late: "late",
    no_suggestion: "No suggestion", new_case: "New case",
    reason_responsible_department: "class's department", reason_on_duty: "on duty in the grid",
    reason_dispatch_rule: "dispatch rule", reason_street_office: "street office",
    q_to_accept: "To accept", q_verifying: "Verifying", q_to_file: "To file",
    q_to_dispatch: "To dispatch", q_awaiting_approval: "Awaiting approval", q_handling: "Handling",
    q_to_check: "To check", q_checking: "Checking", q_to_close: "To close", q_overdue: "Overdue",
    key_queue: "Switch queue", key_move: "Previous / next case", key_open: "Open the case",
    key_select: "Select / unselect", key_search: "Search",
    key_dispatch: "Dispatch (Enter takes the first suggestion)", key_action: "First allowed action",
    key_escape: "Close the form", key_help: "This help", nav_sensors: "Sensors", nav_video: "Video", nav_onemap: "One map", nav_enforcement: "Enforcement",
    hotline: "Hotline intake", callbacks: "Call-backs", callbacks_due: "Call-backs due",
    no_callbacks: "No call-backs due", caller_says: "What the caller says",
    caller_says_hint: "The problem, the place and what the caller saw",
    call_suggested: "Suggested classes", other_class: "Other class", no_other_class: "(none)",
    classifying: "Classifying…", no_class_guess: "No class recognised",
    route_automatic_hint: "Confidence at least {threshold}%: classified and routed automatically",
    route_chosen_hint: "Chosen class: {name}",
    route_call_taker_hint: "No class chosen: the case waits in the To accept queue to be classified",
    map_hint: "Click the place on the map, or type its coordinates", lat: "Latitude",
    lon: "Longitude", address: "Address (optional)", caller_name: "Caller's name",
    caller_phone: "Caller's phone",
    bad_phone: "A phone number has digits, spaces, brackets and dashes only, at least 5",
    submit_call: "Take the call", new_call: "New call",
    need_description: "Write down what the caller says",
    need_place: "Click the place on the map or type its coordinates",
    call_taken: "Call taken", ticket: "Ticket", case: "Case", routing: "Routing",
    routing_automatic: "Routed automatically", routing_chosen: "Class chosen",
    routing_call_taker: "Waits to be classified",
    joined: "Joined an open case (the problem was already reported)",
    joined_short: "joined an open case", open_case: "Open the case",
    closed_at: "Closed", caller: "Caller", phone: "Phone", email: "Email",
    reached: "Reached?", reached_yes: "Reached", reached_no: "Not reached", rating: "Satisfaction",
    no_rating: "not rated", callback_note: "Call-back note", record_callback: "Record the call-back",
    need_reached: "Say whether the caller was reached",
    need_rating: "Choose how satisfied the resident is", callback_saved: "Call-back recorded",
    callback_reopened: "Call-back recorded: the resident is dissatisfied, the case is reopened and waits in To accept",
    residents_requests: "Residents' requests", callback_list: "Call-backs",
    resident_rating: "Resident's rating", anonymous: "(no name given)", masked: "masked",
    key_hotline: "Hotline intake (new call)", key_callbacks: "Call-backs due",
    key_submit_call: "Take the call",
  },
};

const STATES = {
  reported: ["上报", "Reported"], verifying: ["待核实", "Verifying"], accepted: ["已受理", "Accepted"],
  filed: ["已立案", "Filed"], handling: ["处置中", "Handling"], deferred: ["挂账", "Deferred"],
  handled: ["已处置", "Handled"], checking: ["核查中", "Checking"], checked: ["核查通过", "Checked"],
  closed: ["已结案", "Closed"], evaluated: ["已评价", "Evaluated"], cancelled: ["已作废", "Cancelled"],
};
const ACTIONS = {
  report: ["上报", "Report"], send_verify: ["派发核实", "Send to verify"], verify: ["核实", "Verify"],
  accept: ["受理", "Accept"], file: ["立案", "File"], cancel: ["作废", "Cancel"],
  dispatch: ["派遣", "Dispatch"], sign_for: ["签收", "Sign for"],
  request_extension: ["申请延时", "Ask for more time"], request_return: ["申请回退", "Ask to return"],
  request_defer: ["申请挂账", "Ask to defer"], approve: ["批准申请", "Approve"],
  reject: ["驳回申请", "Reject"], resume: ["恢复处置", "Resume"],
  report_handled: ["处置反馈", "Report handled"], send_check: ["派发核查", "Send to check"],
  check: ["核查", "Check"], self_handle: ["自处理", "Fixed on the spot"], close: ["结案", "Close"],
  evaluate: ["评价", "Evaluate"], escalate: ["超时升级", "Escalate"], urge: ["督办", "Urge"],
  note: ["情况记录", "Note"], reopen: ["重新办理", "Reopen"],
};
const SOURCES = {
  camera: ["视频", "Camera"], sensor: ["传感器", "Sensor"], inspector: ["监督员", "Inspector"],
  grid_worker: ["网格员", "Grid worker"], citizen: ["市民", "Citizen"], hotline: ["热线", "Hotline"],
  planning: ["规划比对", "Planning"], referral: ["上级转办", "Referral"],
};
const OUTCOMES = { verify: ["confirmed", "not_confirmed"], check: ["pass", "rework"] };
const OUTCOME_NAMES = {
  confirmed: ["属实", "Confirmed"], not_confirmed: ["不属实", "Not confirmed"],
  pass: ["通过", "Pass"], rework: ["返工", "Rework"],
};
const NOTE_REQUIRED = new Set(["cancel", "reject", "urge", "request_return", "request_defer"]);
const QUEUE_NAMES = [
  "to_accept", "verifying", "to_file", "to_dispatch", "awaiting_approval", "handling",
  "to_check", "checking", "to_close", "overdue",
];
// What a desk does to a whole queue at once; the server still checks each case.
const BULK = {
  to_accept: ["accept", "send_verify"], to_file: ["file", "cancel"], to_dispatch: ["dispatch"],
  awaiting_approval: ["approve", "reject"], handling: ["urge"], to_check: ["send_check"],
  to_close: ["close"], overdue: ["urge"],
};
const HOME_QUEUE = { call_taker: "to_accept", shift_leader: "to_file", dispatcher: "to_dispatch" };
// Who takes hotline calls and calls residents back (回访): the API lets only them, and only
// they see residents' contacts in full.
const INTAKE_ROLES = ["call_taker", "shift_leader", "admin"];
const RATINGS = {
  satisfied: ["满意", "Satisfied"], basically_satisfied: ["基本满意", "Fairly satisfied"],
  dissatisfied: ["不满意", "Dissatisfied"],
};
const CHANNELS = {
  hotline: ["热线", "Hotline"], web: ["市民网页", "Residents' page"], open311: ["Open311", "Open311"],
};
const LIGHTS = { green: "#1f9d55", yellow: "#d69e2e", red: "#c53030" };
const PAGE = 50;

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const pick = (pair) => (pair ? pair[ui.lang === "zh" ? 0 : 1] : "");
const $ = (selector, root = document) => root.querySelector(selector);

let me = null;
let live = null;
let queue = "to_dispatch";
let rows = []; // cases of the current list, in order
let total = 0;
let cursor = -1; // index of the row the keyboard is on
const chosen = new Set(); // ids ticked for a bulk action
let current = null; // the case detail shown
let caseMap = null;
let refreshTimer = null;
const classes = new Map();
const departments = new Map();
let view = "list"; // what the middle column shows: "list" (the queue), "hotline" or "callbacks"
let mayTakeCalls = false; // hotline intake and call-backs are for INTAKE_ROLES only

// -- session ----------------------------------------------------------------------------

function showLogin() {
  live?.close();
  live = null;
  me = null;
  token.clear();
  $("#login").hidden = false;
  $("#desk").hidden = true;
  $("#logout").hidden = true;
  mayTakeCalls = false;
  $("#desks").hidden = true;
  showView("list");
}
whenUnauthorized(showLogin);

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#desk").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  queue = HOME_QUEUE[me.roles.find((r) => HOME_QUEUE[r])] || "to_dispatch";
  mayTakeCalls = INTAKE_ROLES.some((role) => me.roles.includes(role));
  $("#desks").hidden = !mayTakeCalls;
  await loadReference();
  renderQueues({});
  live = new Live({
    personId: me.id,
    onStatus: setOnline,
    onUnauthorized: showLogin,
    onHello: () => Promise.all([refresh(), loadCallbacks().catch(() => {})]),
    onFrame: (frame) => received(frame),
  });
  live.connect();
  openLinkedCase();
}

// Other pages link to a case as /console/#case/<id> (the one map's conflict patches).
function openLinkedCase() {
  const linked = /^#case\/(\d+)$/.exec(window.location.hash);
  // A case the caller may not see (404/403) simply stays closed, as a stale link should.
  if (linked && me) openCase(Number(linked[1])).catch(() => {});
}
window.addEventListener("hashchange", openLinkedCase);

async function loadReference() {
  const [catalog, depts, streets] = await Promise.all([
    api("/catalog/classes?active=true"),
    api("/departments?limit=200"),
    api(`/regions?level=street${me.scope_code ? `&parent=${me.scope_code.slice(0, 6)}` : ""}&limit=200`),
  ]);
  for (const k of catalog) classes.set(k.code, k);
  for (const d of depts.items) departments.set(d.id, d);
  const classSelect = $("#filter-class");
  for (const k of catalog) classSelect.add(new Option(`${k.code} ${k.name}`, k.code));
  const callClass = $("#call-class");
  callClass.length = 1; // a second login must not list the classes twice
  for (const k of catalog) callClass.add(new Option(`${k.code} ${k.name}`, k.code));
  const streetSelect = $("#filter-street");
  for (const s of streets.items) {
    if (!me.scope_code || s.code.startsWith(me.scope_code) || me.scope_code.startsWith(s.code)) {
      streetSelect.add(new Option(s.name, s.code));
    }
  }
  const departmentSelect = $("#filter-department");
  for (const d of departments.values()) if (d.active) departmentSelect.add(new Option(d.name, String(d.id)));
  const sourceSelect = $("#filter-source");
  for (const [kind, names] of Object.entries(SOURCES)) sourceSelect.add(new Option(pick(names), kind));
}

// -- queues and the list ------------------------------------------------------------------

function filterParams() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($("#filters"))) if (value) params.append(key, value);
  return params;
}

function renderQueues(counts) {
  const list = $("#queues ul");
  list.replaceChildren(...QUEUE_NAMES.map((name, i) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.role = "tab";
    button.dataset.queue = name;
    const here = name === queue && view === "list";
    button.className = `queue${here ? " current" : ""}${name === "overdue" ? " alarm" : ""}`;
    button.setAttribute("aria-selected", String(here));
    const label = document.createElement("span");
    label.textContent = t(`q_${name}`);
    const key = document.createElement("kbd");
    key.textContent = String((i + 1) % 10);
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = counts[name] ?? "";
    button.append(key, label, count);
    button.addEventListener("click", () => switchQueue(name));
    li.append(button);
    return li;
  }));
  $("#queue-title").textContent = t(`q_${queue}`);
}

// Refreshes overlap when frames come fast: a slower, older answer must not overwrite a newer one.
let countsAsked = 0;
let listAsked = 0;

async function loadCounts() {
  const params = filterParams();
  params.delete("text");
  const asked = ++countsAsked;
  const { counts } = await api(`/cases/queues?${params}`);
  if (asked === countsAsked) renderQueues(counts);
}

async function loadList({ more = false } = {}) {
  const params = filterParams();
  params.set("queue", queue);
  params.set("limit", String(PAGE));
  params.set("offset", String(more ? rows.length : 0));
  const asked = ++listAsked;
  const page = await api(`/cases?${params}`);
  if (asked !== listAsked) return;
  const before = new Set(rows.map((c) => c.id));
  rows = more ? rows.concat(page.items) : page.items;
  total = page.total;
  for (const id of [...chosen]) if (!rows.some((c) => c.id === id)) chosen.delete(id);
  renderRows(more ? new Set() : new Set(rows.filter((c) => before.size && !before.has(c.id)).map((c) => c.id)));
}

function renderRows(fresh) {
  const body = $("#rows");
  body.replaceChildren(...rows.map((c, i) => {
    const tr = document.createElement("tr");
    tr.dataset.caseId = c.id;
    tr.tabIndex = -1;
    tr.className = [i === cursor ? "cursor" : "", current?.id === c.id ? "open" : "", fresh.has(c.id) ? "new" : ""].join(" ");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = chosen.has(c.id);
    box.setAttribute("aria-label", c.number);
    box.addEventListener("click", (event) => { event.stopPropagation(); toggle(c.id, box.checked); });
    const light = document.createElement("span");
    light.className = `light ${c.light || "none"}`;
    const cells = [
      [box], [c.number], [c.class_name || c.class_code || "—"], [c.address || `${c.lon.toFixed(5)}, ${c.lat.toFixed(5)}`],
      [pick(STATES[c.state]) + (c.pending_request ? ` · ${pick(ACTIONS[`request_${c.pending_request.kind}`])}` : "")],
      [light, formatTime(c.stage_due_at, ui.lang)], [pick(SOURCES[c.source_kind]) || c.source_kind],
    ];
    for (const parts of cells) {
      const td = document.createElement("td");
      td.append(...parts);
      tr.append(td);
    }
    tr.addEventListener("click", () => { cursor = i; openCase(c.id); });
    return tr;
  }));
  $("#empty").hidden = rows.length > 0;
  $("#more").hidden = rows.length >= total;
  $("#select-all").checked = rows.length > 0 && rows.every((c) => chosen.has(c.id));
  renderBulk();
}

function switchQueue(name) {
  queue = name;
  showView("list");
  $("#bulk-progress").hidden = true;
  cursor = -1;
  chosen.clear();
  rows = [];
  refresh();
}

async function refresh() {
  await Promise.all([loadCounts(), loadList()]);
}

// Frames come in bursts (a camera gateway, a bulk action): one reload per burst is enough.
function refreshSoon() {
  clearTimeout(refreshTimer);
  // A case that closes may owe its residents a call-back: the call-back list follows too.
  refreshTimer = setTimeout(() => {
    refresh().catch(() => {});
    loadCallbacks().catch(() => {});
  }, 150);
}

function received(frame) {
  if (frame.type === "reload") return refreshSoon();
  if (frame.type !== "case") return;
  refreshSoon();
  if (current && frame.case.id === current.id) openCase(current.id, { keepForm: true }).catch(() => {});
}

function setOnline(online) {
  const status = $("#status");
  status.textContent = t(online ? "online" : "offline");
  status.className = `status ${online ? "online" : "offline"}`;
}

// -- bulk ---------------------------------------------------------------------------------

function toggle(id, on) {
  if (on) chosen.add(id);
  else chosen.delete(id);
  const row = $(`#rows tr[data-case-id="${id}"] input`);
  if (row) row.checked = on;
  $("#select-all").checked = rows.length > 0 && rows.every((c) => chosen.has(c.id));
  renderBulk();
}

function renderBulk() {
  const bar = $("#bulk");
  bar.hidden = chosen.size === 0;
  $("#bulk-count").textContent = t("selected", { n: chosen.size });
  const actions = $("#bulk-actions");
  const buttons = (BULK[queue] || []).map((action) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.dataset.action = action;
    button.textContent = action === "dispatch" ? t("dispatch_suggested") : pick(ACTIONS[action]);
    button.addEventListener("click", () => bulk(action));
    return button;
  });
  const note = document.createElement("input");
  note.id = "bulk-note";
  note.placeholder = t("note");
  note.maxLength = 2000;
  actions.replaceChildren(...buttons, note);
}

async function bulk(action) {
  const note = $("#bulk-note").value.trim();
  const progress = $("#bulk-progress");
  progress.hidden = false;
  if (NOTE_REQUIRED.has(action) && !note) {
    progress.textContent = t("note_required");
    return;
  }
  const ids = [...chosen];
  let ok = 0;
  let failed = 0;
  const errors = [];
  const one = async (id) => {
    const body = { action, note, request_key: newKey() };
    if (action === "dispatch") {
      const [best] = await api(`/cases/${id}/dispatch-suggestions`);
      if (!best) throw new Error(t("no_suggestion"));
      Object.assign(body, { department_id: best.department_id, assignee_id: best.assignee_id });
    }
    await api(`/cases/${id}/actions`, { method: "POST", json: body });
  };
  // Four at a time: quick for a queue of hundreds, gentle on the server.
  const waiting = [...ids];
  const worker = async () => {
    for (let id = waiting.shift(); id !== undefined; id = waiting.shift()) {
      try {
        await one(id);
        ok += 1;
        chosen.delete(id);
      } catch (exc) {
        failed += 1;
        errors.push(`${id}: ${exc.message}`);
      }
      progress.textContent = t("working", { done: ok + failed, all: ids.length });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  progress.textContent = t("done", { ok, failed });
  progress.title = errors.join("\n");
  await refresh();
}

// -- the case ------------------------------------------------------------------------------

async function openCase(id, { keepForm = false } = {}) {
  const c = await api(`/cases/${id}`);
  current = c;
  const pane = $("#detail");
  pane.hidden = false;
  pane.dataset.caseId = c.id;
  pane.dataset.state = c.state;
  for (const tr of document.querySelectorAll("#rows tr")) tr.classList.toggle("open", Number(tr.dataset.caseId) === c.id);
  $(".light", pane).className = `light ${c.light || "none"}`;
  $(".title", pane).textContent = `${c.class_name || c.class_code || "—"} · ${pick(STATES[c.state])}`;
  $(".number", pane).textContent = c.number;
  $(".place", pane).textContent = c.address || `${c.lon.toFixed(5)}, ${c.lat.toFixed(5)}`;
  $(".description", pane).textContent = c.description;
  renderFacts(c);
  renderActions(c, keepForm);
  renderTimeline(c);
  renderEvidence(c).catch(() => {});
  renderRequests(c).catch(() => { $("#case-requests").hidden = true; });
  showOnMap(c).catch(() => {});
}

function renderFacts(c) {
  const handler = [c.department_name, c.assignee_name].filter(Boolean).join(" · ");
  const facts = [
    ["reported_at", formatTime(c.reported_at, ui.lang)],
    ["stage_due", formatTime(c.stage_due_at, ui.lang) + (c.overdue ? ` (${t("late")})` : "")],
    ["handle_due", formatTime(c.handle_due_at, ui.lang)],
    ["region", c.grid_code || c.region_code],
    ["handler", handler],
    ["source", `${pick(SOURCES[c.source_kind]) || c.source_kind} · ${c.source}`],
    ["signals", String(c.signal_count)],
    ["request", c.pending_request ? `${pick(ACTIONS[`request_${c.pending_request.kind}`])}: ${c.pending_request.note || ""}` : ""],
  ];
  const list = $("#detail .facts");
  list.replaceChildren();
  for (const [key, value] of facts) {
    if (!value) continue;
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
}

function renderActions(c, keepForm) {
  const box = $("#actions");
  box.replaceChildren(...c.allowed_actions.map((action, i) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = i === 0 ? "primary" : "secondary";
    button.dataset.action = action;
    button.textContent = pick(ACTIONS[action]) || action;
    button.addEventListener("click", () => openForm(action));
    return button;
  }));
  const form = $("#action-form");
  if (!keepForm || !c.allowed_actions.includes(form.dataset.action)) {
    form.hidden = true;
    form.dataset.action = "";
  }
  $("#action-error").hidden = true;
}

const CLASSIFYING = new Set(["send_verify", "file"]);

// The classifier's top three for a case's text, as buttons that choose the class; the
// first chosen when the classifier is sure enough to have routed it itself.
async function classSuggestions(text, select) {
  const box = document.createElement("p");
  box.className = "class-suggestions";
  const answer = await api("/citizens/classify", { method: "POST", json: { text } }).catch(() => null);
  const suggestions = answer?.suggestions || [];
  box.append(document.createTextNode(`${t(suggestions.length ? "suggested_classes" : "no_class_guess")} `));
  for (const s of suggestions) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "secondary chip";
    chip.dataset.classCode = s.class_code;
    chip.textContent = `${s.class_code} ${s.name} ${Math.round(s.confidence * 100)}%`;
    chip.addEventListener("click", () => { select.value = s.class_code; });
    box.append(chip);
  }
  if (suggestions.length) select.value = suggestions[0].class_code;
  return box;
}

function field(labelKey, control) {
  const label = document.createElement("label");
  const span = document.createElement("span");
  span.textContent = t(labelKey);
  label.append(span, control);
  return label;
}

async function openForm(action) {
  const c = current;
  const form = $("#action-form");
  form.dataset.action = action;
  form.replaceChildren();
  const title = document.createElement("h3");
  title.textContent = pick(ACTIONS[action]) || action;
  form.append(title);
  // The class: always when accepting; when sending to verify or filing a case that has
  // none yet (a report the classifier was not sure of), with its three likeliest classes.
  if (action === "accept" || (CLASSIFYING.has(action) && !c.class_code)) {
    const select = document.createElement("select");
    select.name = "class_code";
    select.required = action !== "send_verify";
    if (!select.required) select.add(new Option(t("class_later"), ""));
    for (const k of classes.values()) select.add(new Option(`${k.code} ${k.name}`, k.code, false, k.code === c.class_code));
    form.append(field("class_pick", select));
    if (!c.class_code && c.description) form.append(await classSuggestions(c.description, select));
  }
  if (OUTCOMES[action]) {
    const select = document.createElement("select");
    select.name = "outcome";
    for (const o of OUTCOMES[action]) select.add(new Option(pick(OUTCOME_NAMES[o]), o));
    form.append(field("outcome", select));
  }
  if (action === "evaluate") {
    const select = document.createElement("select");
    select.name = "score";
    for (const n of [5, 4, 3, 2, 1]) select.add(new Option("★".repeat(n), String(n)));
    form.append(field("score", select));
  }
  if (action === "dispatch") await dispatchFields(form, c);
  const note = document.createElement("textarea");
  note.name = "note";
  note.rows = 2;
  note.maxLength = 2000;
  note.required = NOTE_REQUIRED.has(action);
  form.append(field("note", note));
  const row = document.createElement("p");
  row.className = "row";
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "primary";
  submit.textContent = t("confirm");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link dark";
  cancel.textContent = t("cancel");
  cancel.addEventListener("click", closeForm);
  row.append(submit, cancel);
  form.append(row);
  form.hidden = false;
  // Dispatching as suggested is the usual case: Enter confirms it straight away.
  (action === "dispatch" ? submit : form.querySelector("select, textarea"))?.focus();
}

async function dispatchFields(form, c) {
  const suggestions = await api(`/cases/${c.id}/dispatch-suggestions`);
  const fieldset = document.createElement("fieldset");
  fieldset.className = "suggestions";
  const legend = document.createElement("legend");
  legend.textContent = t("suggested");
  fieldset.append(legend);
  suggestions.forEach((s, i) => {
    const label = document.createElement("label");
    label.className = "check";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "suggestion";
    radio.value = `${s.department_id ?? ""}:${s.assignee_id ?? ""}`;
    radio.checked = i === 0;
    const text = document.createElement("span");
    const who = [s.department_name, s.assignee_name].filter(Boolean).join(" · ");
    const why = s.reasons.map((r) => t(`reason_${r}`)).join("、");
    text.textContent = `${who} — ${why}${s.rule ? ` (${s.rule})` : ""} · ${t("open_tasks", { n: s.open_tasks })}`;
    label.append(radio, text);
    fieldset.append(label);
  });
  if (!suggestions.length) fieldset.append(t("no_suggestion"));
  form.append(fieldset);
  // Overriding: any active department, and the grid workers of the street or the department's
  // handlers; choosing either clears the suggestion.
  const dept = document.createElement("select");
  dept.name = "department_id";
  dept.add(new Option(t("none"), ""));
  for (const d of departments.values()) if (d.active) dept.add(new Option(d.name, String(d.id)));
  const person = document.createElement("select");
  person.name = "assignee_id";
  const fillPeople = async () => {
    const street = c.region_code.slice(0, 9);
    const lists = [api(`/people?role=grid_worker&scope=${street}&limit=200`)];
    if (dept.value) lists.push(api(`/people?role=department_handler&department_id=${dept.value}&limit=200`));
    const people = (await Promise.all(lists)).flatMap((p) => p.items);
    person.replaceChildren(new Option(t("none"), ""));
    for (const p of people) person.add(new Option(p.name, String(p.id)));
  };
  const clearSuggestion = () => {
    for (const r of fieldset.querySelectorAll("input[type=radio]")) r.checked = false;
  };
  dept.addEventListener("change", () => { clearSuggestion(); fillPeople().catch(() => {}); });
  person.addEventListener("change", clearSuggestion);
  await fillPeople();
  const override = document.createElement("div");
  override.className = "override";
  const legend2 = document.createElement("span");
  legend2.textContent = t("override");
  override.append(legend2, field("department", dept), field("person", person));
  form.append(override);
}

function closeForm() {
  const form = $("#action-form");
  form.hidden = true;
  form.dataset.action = "";
  $("#action-error").hidden = true;
}

async function submitForm(event) {
  event.preventDefault();
  const form = event.target;
  const action = form.dataset.action;
  const data = new FormData(form);
  const body = { action, note: (data.get("note") || "").trim(), request_key: newKey(), expected_version: current.version };
  const error = $("#action-error");
  if (NOTE_REQUIRED.has(action) && !body.note) {
    error.textContent = t("note_required");
    error.hidden = false;
    return;
  }
  for (const key of ["class_code", "outcome"]) if (data.get(key)) body[key] = data.get(key);
  if (data.get("score")) body.score = Number(data.get("score"));
  if (action === "dispatch") {
    const chosenSuggestion = data.get("suggestion");
    const [dept, person] = chosenSuggestion ? chosenSuggestion.split(":") : [data.get("department_id"), data.get("assignee_id")];
    if (dept) body.department_id = Number(dept);
    if (person) body.assignee_id = Number(person);
  }
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const c = await api(`/cases/${current.id}/actions`, { method: "POST", json: body });
    closeForm();
    await openCase(c.id);
    refreshSoon();
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

function renderTimeline(c) {
  const list = $("#timeline");
  list.replaceChildren(...[...c.steps].reverse().map((s) => {
    const li = document.createElement("li");
    if (s.on_time === false) li.className = "late";
    const head = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = pick(ACTIONS[s.action]) || s.action_name;
    const when = document.createElement("time");
    when.dateTime = s.at;
    when.textContent = formatTime(s.at, ui.lang);
    const who = document.createElement("span");
    who.className = "muted";
    who.textContent = `${s.actor_name}${s.rule ? ` · ${s.rule}` : ""} · ${pick(STATES[s.from_state]) || "—"} → ${pick(STATES[s.to_state])}`;
    head.append(name, " ", when, " ", who);
    li.append(head);
    if (s.note) {
      const note = document.createElement("p");
      note.textContent = s.note;
      li.append(note);
    }
    if (s.on_time === false) {
      const late = document.createElement("span");
      late.className = "late-tag";
      late.textContent = t("late");
      head.append(" ", late);
    }
    return li;
  }));
}

async function renderEvidence(c) {
  const box = $("#evidence");
  box.replaceChildren();
  if (!c.attachments.length) {
    box.textContent = t("no_evidence");
    return;
  }
  for (const a of c.attachments) {
    const link = document.createElement("a");
    link.target = "_blank";
    link.title = `${a.filename} · ${formatTime(a.uploaded_at, ui.lang)}`;
    link.href = await blobUrl(a.url);
    if (a.content_type.startsWith("image/")) {
      const img = document.createElement("img");
      img.src = link.href;
      img.alt = a.filename;
      link.append(img);
    } else {
      link.textContent = a.filename;
    }
    box.append(link);
  }
}

// The residents' requests the case stands for (several when reports joined it), with their
// ratings and the call-backs made; contacts come masked for the roles that do not call back.
async function renderRequests(c) {
  const requests = await api(`/citizens/requests?case_id=${c.id}`);
  if (current?.id !== c.id) return;
  const box = $("#case-requests");
  box.hidden = requests.length === 0;
  $("ol", box).replaceChildren(...requests.map((r) => {
    const li = document.createElement("li");
    li.dataset.requestId = r.id;
    const head = document.createElement("div");
    const channel = document.createElement("strong");
    channel.textContent = pick(CHANNELS[r.channel]) || r.channel;
    const when = document.createElement("span");
    when.className = "muted";
    when.textContent = ` ${r.token} · ${formatTime(r.requested_at, ui.lang)}`;
    head.append(channel, when);
    if (TEXT.zh[`routing_${r.routing}`]) head.append(` · ${t(`routing_${r.routing}`)}`);
    if (r.joined) head.append(` · ${t("joined_short")}`);
    const text = document.createElement("p");
    text.textContent = r.description;
    li.append(head, text);
    const contact = r.contact || {};
    const who = [contactName(contact), contact.phone, contact.email].filter(Boolean).join(" · ");
    const whoLine = document.createElement("p");
    whoLine.className = "muted";
    whoLine.textContent = `${t("caller")}: ${who}${contact.masked ? ` (${t("masked")})` : ""}`;
    li.append(whoLine);
    if (r.rating) {
      const rated = document.createElement("p");
      rated.className = `rating ${r.rating.rating}`;
      rated.textContent = `${t("resident_rating")}: ${pick(RATINGS[r.rating.rating]) || r.rating.rating}${r.rating.comment ? ` · ${r.rating.comment}` : ""}`;
      li.append(rated);
    }
    if (r.callbacks?.length) {
      const calls = document.createElement("ul");
      calls.className = "calls";
      for (const cb of r.callbacks) {
        const item = document.createElement("li");
        const verdict = cb.reached ? `${t("reached_yes")} · ${pick(RATINGS[cb.rating]) || t("no_rating")}` : t("reached_no");
        item.textContent = `${t("callback_list")} ${formatTime(cb.at, ui.lang)} ${cb.by ?? ""}: ${verdict}${cb.note ? ` · ${cb.note}` : ""}`;
        if (cb.rating === "dissatisfied") item.className = "dissatisfied";
        calls.append(item);
      }
      li.append(calls);
    }
    return li;
  }));
}

const gridShapes = new Map();
async function showOnMap(c) {
  if (!caseMap) {
    caseMap = L.map("case-map", { attributionControl: false });
    const tiles = document.documentElement.dataset.tiles;
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(caseMap);
    caseMap.layers = L.layerGroup().addTo(caseMap);
  }
  caseMap.layers.clearLayers();
  caseMap.setView([c.lat, c.lon], 17);
  if (c.grid_code) {
    if (!gridShapes.has(c.grid_code)) gridShapes.set(c.grid_code, (await api(`/regions/${c.grid_code}`)).geometry);
    const shape = gridShapes.get(c.grid_code);
    if (shape) {
      const layer = L.geoJSON(shape, { style: { color: "#0b5cad", weight: 1, fillOpacity: 0.05 } });
      caseMap.layers.addLayer(layer);
      caseMap.fitBounds(layer.getBounds(), { padding: [10, 10] });
    }
  }
  const colour = LIGHTS[c.light] || "#6b7280";
  caseMap.layers.addLayer(L.circleMarker([c.lat, c.lon], { radius: 9, color: colour, fillColor: colour, fillOpacity: 0.7 }));
  setTimeout(() => caseMap.invalidateSize(), 0);
}

// -- the middle column: the queue, the hotline intake or the call-backs ---------------------

function showView(name) {
  view = name;
  $("#list").hidden = name !== "list";
  $("#hotline").hidden = name !== "hotline";
  $("#callbacks").hidden = name !== "callbacks";
  for (const button of document.querySelectorAll("#desks button")) {
    button.classList.toggle("current", button.dataset.view === name);
  }
  for (const button of document.querySelectorAll("#queues ul[role=tablist] button")) {
    button.classList.toggle("current", name === "list" && button.dataset.queue === queue);
  }
  if (name === "hotline") {
    intakeMap().catch(() => {});
    $("#call-text").focus();
  }
  if (name === "callbacks") loadCallbacks().catch(() => {});
}

// -- hotline intake (热线受理) ------------------------------------------------------------------

const intake = {
  key: newKey(), // one per content: a resend of the same call (a double click, a retry) is taken once
  asked: 0, // classify answers arrive out of order when the call-taker types fast
  timer: null,
  text: "", // the text the shown suggestions are for
  result: null, // the last classify answer
  machinePick: false, // the checked class was preselected, not chosen by the call-taker
  map: null,
  marker: null,
  area: null, // the bounds of the person's area, where each new call starts
  outcome: null, // the last call taken, as the outcome box shows it
};

async function intakeMap() {
  if (intake.map) {
    intake.map.invalidateSize();
    return;
  }
  const map = L.map("call-map", { attributionControl: false });
  intake.map = map;
  const tiles = document.documentElement.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  map.setView([35, 105], 4); // China, until the person's own area arrives
  map.on("click", (event) => {
    setPlace(event.latlng.lat, event.latlng.lng);
    renewKey();
  });
  // The person's area outlined, so that the call-taker finds the caller's street quickly.
  const area = me.scope_code
    ? await api(`/regions/${me.scope_code}`)
    : (await api("/regions?level=district&limit=1")).items[0];
  if (area?.geometry) {
    const outline = L.geoJSON(area.geometry, {
      interactive: false, style: { color: "#0b5cad", weight: 2, fillOpacity: 0.04 },
    }).addTo(map);
    intake.area = outline.getBounds();
    if (!intake.marker) map.fitBounds(intake.area, { padding: [8, 8] });
  }
  map.invalidateSize();
}

function setPlace(lat, lon) {
  $("#call-lat").value = lat.toFixed(6);
  $("#call-lon").value = lon.toFixed(6);
  placeMarker(lat, lon);
}

function placeMarker(lat, lon) {
  if (!intake.map) return;
  if (!intake.marker) {
    intake.marker = L.circleMarker([lat, lon], { radius: 8, color: "#c53030", fillColor: "#c53030", fillOpacity: 0.7 });
    intake.marker.addTo(intake.map);
  } else {
    intake.marker.setLatLng([lat, lon]);
  }
}

function typedPlace() {
  const lat = Number.parseFloat($("#call-lat").value);
  const lon = Number.parseFloat($("#call-lon").value);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

function renewKey() {
  intake.key = newKey();
}

function classifySoon() {
  clearTimeout(intake.timer);
  intake.timer = setTimeout(() => classify().catch(() => {}), 350);
}

async function classify() {
  const text = $("#call-text").value.trim();
  if (text === intake.text) return;
  const asked = ++intake.asked;
  if (text.length < 2) {
    intake.text = text;
    intake.result = null;
    renderSuggestions();
    return;
  }
  $("#call-routing").textContent = t("classifying");
  const result = await api("/citizens/classify", { method: "POST", json: { text } });
  if (asked !== intake.asked) return;
  intake.text = text;
  intake.result = result;
  renderSuggestions();
}

function chosenClass() {
  const other = $("#call-class").value;
  if (other) return other;
  return $("#call-suggestions input:checked")?.value || "";
}

function renderSuggestions() {
  const box = $("#call-suggestions");
  const before = chosenClass();
  const userChose = before && !intake.machinePick;
  const suggestions = intake.result?.suggestions || [];
  box.replaceChildren(...suggestions.map((s) => {
    const label = document.createElement("label");
    label.className = "check suggestion";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "class_choice";
    radio.value = s.class_code;
    const name = document.createElement("span");
    name.textContent = `${s.name} `;
    const code = document.createElement("small");
    code.className = "muted";
    code.textContent = s.class_code;
    name.append(code);
    const bar = document.createElement("meter");
    bar.min = 0;
    bar.max = 1;
    bar.value = s.confidence;
    const pct = document.createElement("span");
    pct.className = "confidence";
    pct.textContent = `${Math.round(s.confidence * 100)}%`;
    label.append(radio, name, bar, pct);
    return label;
  }));
  if (intake.text && !suggestions.length) box.textContent = t("no_class_guess");
  if (userChose) {
    // The call-taker's own choice stands; one that left the top three moves to the picker.
    const radio = box.querySelector(`input[value="${before}"]`);
    if (radio && !$("#call-class").value) radio.checked = true;
    else $("#call-class").value = before;
    intake.machinePick = false;
  } else {
    intake.machinePick = Boolean(intake.result?.automatic && suggestions.length);
    if (intake.machinePick) box.querySelector("input").checked = true;
  }
  renderRouting();
}

// What will happen to the call on submit, in the words of the outcome: a preselected class is
// sent as none, so that the server classifies it itself ("automatic"); a chosen one is sent.
function renderRouting() {
  const hint = $("#call-routing");
  const code = chosenClass();
  if (!intake.text) hint.textContent = "";
  else if (intake.machinePick) hint.textContent = t("route_automatic_hint", { threshold: Math.round(intake.result.threshold * 100) });
  else if (code) hint.textContent = t("route_chosen_hint", { name: classes.get(code)?.name || code });
  else hint.textContent = t("route_call_taker_hint");
}

function resetCall() {
  $("#hotline-form").reset();
  clearTimeout(intake.timer);
  intake.asked += 1;
  Object.assign(intake, { text: "", result: null, machinePick: false });
  intake.marker?.remove();
  intake.marker = null;
  if (intake.area) intake.map.fitBounds(intake.area, { padding: [8, 8] });
  renewKey();
  renderSuggestions();
  $("#call-error").hidden = true;
  $("#call-text").focus();
}

// The fields of a problem's errors, by the names the form shows them under.
const FIELD_NAMES = {
  description: "caller_says", lat: "lat", lon: "lon", address: "address", caller_name: "caller_name",
  caller_phone: "caller_phone", class_code: "class", reached: "reached", rating: "rating", note: "callback_note",
};

function problemText(exc) {
  const errors = exc.problem?.errors || [];
  if (!errors.length) return `${t("failed")}: ${exc.message}`;
  return errors.map((e) => `${FIELD_NAMES[e.path] ? t(FIELD_NAMES[e.path]) : e.path}: ${e.message}`).join("; ");
}

async function submitCall(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#call-error");
  const description = $("#call-text").value.trim();
  const place = typedPlace();
  const phone = $("#call-phone").value.trim();
  // The server's own rule for a phone number, told in the call-taker's words before it answers.
  const badPhone = phone && !/^\+?[0-9 ()-]{5,30}$/.test(phone);
  const missing = !description ? "need_description" : !place ? "need_place" : badPhone ? "bad_phone" : "";
  if (missing) {
    error.textContent = t(missing);
    error.hidden = false;
    return;
  }
  const body = { description, lat: place.lat, lon: place.lon };
  for (const name of ["address", "caller_name", "caller_phone"]) {
    const value = form.elements[name].value.trim();
    if (value) body[name] = value;
  }
  // The classifier must have read this very text for its preselection to mean anything.
  clearTimeout(intake.timer);
  await classify().catch(() => {});
  if (!intake.machinePick && chosenClass()) body.class_code = chosenClass();
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  error.hidden = true;
  try {
    const taken = await api("/citizens/hotline", { method: "POST", json: body, headers: { "Idempotency-Key": intake.key } });
    await openCase(taken.case_id).catch(() => {});
    // Kept to be shown again in the other language; the case as it was when the call was taken.
    intake.outcome = { taken, number: current?.id === taken.case_id ? current.number : null,
      state: current?.id === taken.case_id ? current.state : null };
    showOutcome();
    resetCall();
    refreshSoon();
  } catch (exc) {
    error.textContent = problemText(exc);
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

function fact(list, key, ...parts) {
  const dt = document.createElement("dt");
  dt.textContent = t(key);
  const dd = document.createElement("dd");
  dd.append(...parts);
  list.append(dt, dd);
  return dd;
}

function showOutcome() {
  const { taken, number, state } = intake.outcome;
  const box = $("#call-outcome");
  const head = document.createElement("strong");
  head.textContent = t("call_taken");
  const list = document.createElement("dl");
  list.className = "facts";
  const ticket = document.createElement("span");
  ticket.className = "ticket";
  ticket.textContent = taken.ticket;
  fact(list, "ticket", ticket);
  const link = document.createElement("button");
  link.type = "button";
  link.className = "link case-link";
  link.textContent = number || `#${taken.case_id}`;
  link.addEventListener("click", () => openCase(taken.case_id));
  fact(list, "case", link, state ? ` · ${pick(STATES[state])}` : "");
  const routing = document.createElement("span");
  routing.className = `routing ${taken.routing}`;
  routing.textContent = t(`routing_${taken.routing}`);
  const className = taken.class_code ? ` · ${classes.get(taken.class_code)?.name || taken.class_code}` : "";
  fact(list, "routing", routing, className);
  box.replaceChildren(head, list);
  if (taken.joined) {
    const joined = document.createElement("p");
    joined.className = "joined";
    joined.textContent = t("joined");
    box.append(joined);
  }
  box.dataset.ticket = taken.ticket;
  box.hidden = false;
}

// -- call-backs (回访) -------------------------------------------------------------------------

let callbacksAsked = 0;

async function loadCallbacks() {
  if (!mayTakeCalls) return;
  const asked = ++callbacksAsked;
  const { items } = await api("/citizens/callbacks/due");
  if (asked !== callbacksAsked) return;
  $("#callback-count").textContent = items.length ? String(items.length) : "";
  renderCallbacks(items);
}

function contactName(contact) {
  const parts = ui.lang === "zh" ? [contact.last_name, contact.first_name] : [contact.first_name, contact.last_name];
  return parts.filter(Boolean).join(ui.lang === "zh" ? "" : " ") || t("anonymous");
}

// The list changes under the call-taker as cases close: cards already shown are kept as they
// are, so that a half-written call-back survives the update.
function renderCallbacks(items) {
  const list = $("#callback-list");
  const shown = new Map([...list.children].map((li) => [li.dataset.requestId, li]));
  const cards = items.map((item) => shown.get(String(item.request_id)) || callbackCard(item));
  list.replaceChildren(...cards);
  $("#callback-empty").hidden = items.length > 0;
}

function radios(name, options, legendKey) {
  const fieldset = document.createElement("fieldset");
  fieldset.className = `choices ${name}`;
  const legend = document.createElement("legend");
  legend.textContent = t(legendKey);
  fieldset.append(legend);
  for (const [value, text] of options) {
    const label = document.createElement("label");
    label.className = "check";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = name;
    radio.value = value;
    const span = document.createElement("span");
    span.textContent = text;
    label.append(radio, span);
    fieldset.append(label);
  }
  return fieldset;
}

function callbackCard(item) {
  const li = document.createElement("li");
  li.className = "card callback";
  li.dataset.requestId = item.request_id;
  li.dataset.caseId = item.case_id;
  const head = document.createElement("header");
  const title = document.createElement("strong");
  title.textContent = item.service_name || "—";
  const ticket = document.createElement("span");
  ticket.className = "muted ticket";
  ticket.textContent = item.ticket;
  const open = document.createElement("button");
  open.type = "button";
  open.className = "link case-link";
  open.textContent = t("open_case");
  open.addEventListener("click", () => openCase(item.case_id));
  head.append(title, " ", ticket, open);
  const description = document.createElement("p");
  description.className = "description";
  description.textContent = item.description;
  const facts = document.createElement("dl");
  facts.className = "facts";
  fact(facts, "closed_at", formatTime(item.closed_at, ui.lang));
  const contact = item.contact || {};
  fact(facts, "caller", contactName(contact));
  if (contact.phone) {
    const tel = document.createElement("a");
    tel.href = `tel:${contact.phone}`;
    tel.className = "phone";
    tel.textContent = contact.phone;
    fact(facts, "phone", tel);
  }
  if (contact.email) fact(facts, "email", contact.email);

  const form = document.createElement("form");
  form.className = "callback-form";
  const reached = radios("reached", [["yes", t("reached_yes")], ["no", t("reached_no")]], "reached");
  const rating = radios("rating", Object.entries(RATINGS).map(([k, names]) => [k, pick(names)]), "rating");
  // Nobody answered: there is no satisfaction to record.
  reached.addEventListener("change", () => {
    rating.disabled = form.elements.reached.value === "no";
  });
  const note = document.createElement("textarea");
  note.name = "note";
  note.rows = 2;
  note.maxLength = 2000;
  const error = document.createElement("p");
  error.className = "error";
  error.role = "alert";
  error.hidden = true;
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "primary";
  submit.textContent = t("record_callback");
  form.append(reached, rating, field("callback_note", note), error, submit);
  form.addEventListener("submit", (event) => recordCallback(event, item, li));
  li.append(head, description, facts, form);
  return li;
}

async function recordCallback(event, item, li) {
  event.preventDefault();
  const form = event.target;
  const error = form.querySelector(".error");
  const reached = form.elements.reached.value;
  // The server takes a rating from a reached resident and from no one else.
  const missing = !reached ? "need_reached" : reached === "yes" && !form.elements.rating.value ? "need_rating" : "";
  if (missing) {
    error.textContent = t(missing);
    error.hidden = false;
    return;
  }
  const body = {
    reached: reached === "yes",
    rating: reached === "yes" ? form.elements.rating.value : null,
    note: form.elements.note.value.trim(),
  };
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const done = await api(`/citizens/requests/${item.request_id}/callbacks`, { method: "POST", json: body });
    li.remove();
    const notice = $("#callback-notice");
    notice.textContent = `${item.ticket} · ${t(done.reopened ? "callback_reopened" : "callback_saved")}`;
    notice.classList.toggle("reopened", done.reopened);
    notice.hidden = false;
    if (current?.id === item.case_id) await openCase(item.case_id).catch(() => {});
    await loadCallbacks().catch(() => {});
    refreshSoon();
  } catch (exc) {
    error.textContent = problemText(exc);
    error.hidden = false;
    submit.disabled = false;
  }
}

// -- keyboard -----------------------------------------------------------------------------

const KEYS = [
  ["1 … 0", "key_queue"], ["j / k ↓ ↑", "key_move"], ["Enter / o", "key_open"], ["x", "key_select"],
  ["/", "key_search"], ["d", "key_dispatch"], ["a", "key_action"], ["Esc", "key_escape"], ["?", "key_help"],
];
const INTAKE_KEYS = [["n", "key_hotline"], ["c", "key_callbacks"], ["Ctrl + Enter", "key_submit_call"]];

function moveCursor(step) {
  if (!rows.length) return;
  cursor = Math.max(0, Math.min(rows.length - 1, cursor + step));
  const trs = document.querySelectorAll("#rows tr");
  trs.forEach((tr, i) => tr.classList.toggle("cursor", i === cursor));
  trs[cursor]?.scrollIntoView({ block: "nearest" });
  trs[cursor]?.focus();
}

function onKey(event) {
  if (!me || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if (event.key === "Escape") {
    closeForm();
    event.target.blur?.();
    return;
  }
  if (typing) return;
  const index = "1234567890".indexOf(event.key);
  if (index >= 0) return switchQueue(QUEUE_NAMES[index]);
  const c = rows[cursor];
  switch (event.key) {
    case "j": case "ArrowDown": event.preventDefault(); return moveCursor(1);
    case "k": case "ArrowUp": event.preventDefault(); return moveCursor(-1);
    case "Enter": case "o": if (c) openCase(c.id); return;
    case "x": if (c) toggle(c.id, !chosen.has(c.id)); return;
    case "/": event.preventDefault(); showView("list"); $("#search").focus(); return;
    case "n": if (mayTakeCalls) { event.preventDefault(); showView("hotline"); } return;
    case "c": if (mayTakeCalls) { event.preventDefault(); showView("callbacks"); } return;
    case "d": if (current?.allowed_actions.includes("dispatch")) { event.preventDefault(); openForm("dispatch"); } return;
    case "a": if (current?.allowed_actions.length) { event.preventDefault(); openForm(current.allowed_actions[0]); } return;
    case "?": showHelp(); return;
    default:
  }
}

function showHelp() {
  const list = $("#help .keys");
  list.replaceChildren();
  for (const [key, what] of mayTakeCalls ? KEYS.concat(INTAKE_KEYS) : KEYS) {
    const dt = document.createElement("dt");
    const kbd = document.createElement("kbd");
    kbd.textContent = key;
    dt.append(kbd);
    const dd = document.createElement("dd");
    dd.textContent = t(what);
    list.append(dt, dd);
  }
  $("#help").showModal();
}

// -- wiring -------------------------------------------------------------------------------

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-placeholder]")) el.placeholder = t(el.dataset.placeholder);
  $("#lang").textContent = t("lang");
  setOnline(Boolean(live?.online));
  if (me) {
    renderQueues({});
    loadCounts().catch(() => {});
    renderRows(new Set());
    if (current) openCase(current.id).catch(() => {});
    renderSuggestions();
    if (!$("#call-outcome").hidden) showOutcome();
    // Call-back cards are built in one language: rebuild them (a half-written note is lost,
    // a rare price for switching language mid-call).
    $("#callback-list").replaceChildren();
    loadCallbacks().catch(() => {});
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
$("#keys").addEventListener("click", showHelp);
$("#filters").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
$("#filters").addEventListener("change", () => { chosen.clear(); refresh(); });
let typingTimer = null;
$("#search").addEventListener("input", () => { clearTimeout(typingTimer); typingTimer = setTimeout(refresh, 300); });
$("#select-all").addEventListener("change", (event) => {
  const on = event.target.checked; // read once: each toggle below sets the box again
  for (const c of rows) toggle(c.id, on);
});
$("#more").addEventListener("click", () => loadList({ more: true }));
$("#action-form").addEventListener("submit", submitForm);
for (const button of document.querySelectorAll("#desks button")) {
  button.addEventListener("click", () => showView(button.dataset.view));
}
const callForm = $("#hotline-form");
callForm.addEventListener("submit", submitCall);
// Any change makes it another call as far as the server's idempotency goes.
callForm.addEventListener("input", renewKey);
callForm.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    callForm.requestSubmit();
  }
});
$("#call-text").addEventListener("input", classifySoon);
// A click, not a change: clicking the preselected class confirms it as the call-taker's choice.
$("#call-suggestions").addEventListener("click", (event) => {
  if (!event.target.matches("input[type=radio]")) return;
  intake.machinePick = false;
  $("#call-class").value = "";
  renderRouting();
});
$("#call-class").addEventListener("change", () => {
  if ($("#call-class").value) for (const r of document.querySelectorAll("#call-suggestions input")) r.checked = false;
  intake.machinePick = false;
  renderRouting();
});
for (const id of ["#call-lat", "#call-lon"]) {
  $(id).addEventListener("change", () => {
    const place = typedPlace();
    if (!place) return;
    placeMarker(place.lat, place.lon);
    intake.map?.panTo([place.lat, place.lon]);
  });
}
$("#call-reset").addEventListener("click", () => {
  $("#call-outcome").hidden = true;
  resetCall();
});
document.addEventListener("keydown", onKey);
applyText();
if (token.get()) start().catch(showLogin);
else showLogin();
