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
    class_pick: "案件类别", outcome: "结果", dispatch_suggested: "按建议派遣",
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
    key_escape: "关闭表单", key_help: "本帮助", nav_sensors: "物联感知", nav_video: "视频监控",
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
    score: "Score", class_pick: "Class", outcome: "Outcome",
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
    key_escape: "Close the form", key_help: "This help", nav_sensors: "Sensors", nav_video: "Video",
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
  note: ["情况记录", "Note"],
};
const SOURCES = {
  camera: ["视频", "Camera"], sensor: ["传感器", "Sensor"], inspector: ["监督员", "Inspector"],
  grid_worker: ["网格员", "Grid worker"], citizen: ["市民", "Citizen"], hotline: ["热线", "Hotline"],
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

// -- session ----------------------------------------------------------------------------

function showLogin() {
  live?.close();
  live = null;
  me = null;
  token.clear();
  $("#login").hidden = false;
  $("#desk").hidden = true;
  $("#logout").hidden = true;
}
whenUnauthorized(showLogin);

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#desk").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  queue = HOME_QUEUE[me.roles.find((r) => HOME_QUEUE[r])] || "to_dispatch";
  await loadReference();
  renderQueues({});
  live = new Live({
    personId: me.id,
    onStatus: setOnline,
    onUnauthorized: showLogin,
    onHello: () => refresh(),
    onFrame: (frame) => received(frame),
  });
  live.connect();
}

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
    button.className = `queue${name === queue ? " current" : ""}${name === "overdue" ? " alarm" : ""}`;
    button.setAttribute("aria-selected", String(name === queue));
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
  refreshTimer = setTimeout(() => refresh().catch(() => {}), 150);
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
  if (action === "accept") {
    const select = document.createElement("select");
    select.name = "class_code";
    for (const k of classes.values()) select.add(new Option(`${k.code} ${k.name}`, k.code, false, k.code === c.class_code));
    form.append(field("class_pick", select));
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

// -- keyboard -----------------------------------------------------------------------------

const KEYS = [
  ["1 … 0", "key_queue"], ["j / k ↓ ↑", "key_move"], ["Enter / o", "key_open"], ["x", "key_select"],
  ["/", "key_search"], ["d", "key_dispatch"], ["a", "key_action"], ["Esc", "key_escape"], ["?", "key_help"],
];

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
    case "/": event.preventDefault(); $("#search").focus(); return;
    case "d": if (current?.allowed_actions.includes("dispatch")) { event.preventDefault(); openForm("dispatch"); } return;
    case "a": if (current?.allowed_actions.length) { event.preventDefault(); openForm(current.allowed_actions[0]); } return;
    case "?": showHelp(); return;
    default:
  }
}

function showHelp() {
  const list = $("#help .keys");
  list.replaceChildren();
  for (const [key, what] of KEYS) {
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
  $("#search").placeholder = t("search");
  $("#lang").textContent = t("lang");
  setOnline(Boolean(live?.online));
  if (me) {
    renderQueues({});
    loadCounts().catch(() => {});
    renderRows(new Set());
    if (current) openCase(current.id).catch(() => {});
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
document.addEventListener("keydown", onKey);
applyText();
if (token.get()) start().catch(showLogin);
else showLogin();
