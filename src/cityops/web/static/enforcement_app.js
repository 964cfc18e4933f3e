// The officer's phone page (移动执法): today's inspections and my agency's invitations, then
// one inspection on site — start, the merged checklist with each agency's results, photos
// from the camera, finish, the combined notice — the signatures of the party and the
// officers, and the inspection's documents as PDF. Everything goes through /api/v1; what is
// recorded without a signal waits in the phone's outbox and is sent when the network is back.

import { ApiError, api, blobUrl, logIn, newKey, token, whenUnauthorized, words } from "./common.js";

const TEXT = {
  zh: {
    title: "移动执法", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", lang: "EN", lang_name: "English", bad_login: "用户名或密码错误", back: "返回",
    online: "在线", offline: "离线", waiting: "待发送 {n} 项", loading: "加载中…",
    not_officer: "您的账号尚未关联执法人员名录中的执法证，无法办理检查。请联系管理员在执法人员名录中登记。",
    certificate: "执法证 {n}",
    invitations: "待确认的联合检查邀请", today: "今日检查", upcoming: "近期安排（两周内）", follow_up: "待跟进",
    no_today: "今天没有安排检查。",
    no_today_hint: "联合检查由发起单位在执法工作台创建；本单位受邀后会出现在上方“待确认”中。",
    no_upcoming: "近期没有其他安排。", today_is: "{date}",
    st_scheduled: "待检查", st_in_progress: "检查中", st_findings_recorded: "待出具通知书",
    st_notice_served: "整改中", st_reinspection_due: "待复查", st_closed: "已办结",
    st_escalated: "已转立案", st_cancelled: "已取消",
    inv_invited: "待确认", inv_accepted: "已接受", inv_declined: "已拒绝",
    role_initiator: "发起", role_invited: "受邀", kind_joint: "综合查一次", kind_random: "双随机抽查",
    kind_special: "专项检查", kind_none: "日常检查",
    you_on_it: "本人在检查组", officers_of: "检查人员：{names}", no_officers: "尚未指派人员",
    navigate: "导航前往", today_word: "今天", tomorrow_word: "明天",
    initiator: "发起单位：{name}", invited_items: "本单位检查事项：{items}",
    accept_legend: "派出执法人员（至少两名持有效执法证人员）",
    accept_hint: "已按检查当日核验执法证的有效期和执法区域。",
    accept: "接受邀请", accepting: "提交中…", decline: "拒绝邀请…", decline_reason: "拒绝理由（必填）",
    decline_submit: "确认拒绝", need_reason: "请填写拒绝理由", need_two: "请至少选择两名执法人员", choose_two: "已选 {n} 名，至少需要两名",
    check_ok: "可以派出：{n} 名人员执法证有效", check_bad: "不能派出：",
    refused: "未被接受：", accepted_msg: "已接受邀请", declined_msg: "已拒绝邀请",
    expires: "证件有效期至 {date}",
    f_time: "时间", f_place: "地点", f_business: "检查对象", f_credit: "信用代码", f_type: "业态",
    f_representative: "负责人", f_plan: "计划编号", f_started: "开始", f_finished: "结束",
    f_deadline: "整改期限", f_notice: "通知书", f_outcome: "结果",
    out_compliant: "检查合格", out_rectification: "整改完毕", out_penalty: "转立案查处",
    start: "开始检查", finish: "结束检查", issue_notice: "出具综合整改通知书",
    serve: "送达", serve_method: "送达方式", started_msg: "检查已开始", finished_msg: "检查已结束",
    issued_msg: "已出具整改通知书 {number}", served_msg: "整改通知书已送达",
    missing: "还有 {n} 个检查点没有结果：", missing_of: "{name} {n} 项",
    tab_checklist: "检查", tab_signatures: "签名", tab_documents: "文书",
    progress: "本单位已记录 {done} / {all} 项", progress_all: "全部单位已记录 {done} / {all} 项",
    checklist_hint_mine: "蓝色标签为本单位负责的检查点；其他单位的检查点只读，结果实时显示。",
    checklist_hint_wait: "检查开始后可记录结果。", checklist_hint_done: "现场检查已结束。",
    no_checklist: "本次检查没有检查清单：参加单位的检查事项都没有清单条目。",
    basis: "依据：{citation}", no_basis: "未列明依据",
    pass: "合格", fail: "不合格", not_applicable: "不涉及", outcome: "检查结果",
    requirement: "整改要求", deadline: "整改期限", note: "情况说明（可选）",
    add_photo: "拍照取证", photo_n: "第 {n} 张照片", remove_photo: "删除第 {n} 张照片",
    too_many: "每次最多 3 张照片", save: "保存结果", save_again: "保存更正", correct: "更正结果",
    need_outcome: "请选择检查结果", need_requirement: "不合格时须填写整改要求",
    need_deadline: "不合格时须填写整改期限",
    queued: "已保存在手机上，联网后自动发送", sending: "发送中…", saved: "已保存",
    not_saved: "未能保存：{reason}", by: "{agency} · {officer}", photos_n: "{n} 张照片",
    pending_result: "待发送", rectified_yes: "已整改", rectified_no: "未整改",
    reinspection: "复查", reinspection_hint: "期限已到或企业已提交整改材料：逐项确认是否整改到位。",
    reinspection_note: "复查说明（可选）", reinspect_submit: "提交复查结果",
    reinspect_officers: "复查人员（至少两名）", need_results: "请逐项选择是否已整改",
    reinspected_msg: "复查完成", proof: "企业整改材料：{note}",
    sign_hint: "请当事人（或其委托人）和执法人员在框内签名，签名将附在现场检查笔录上。",
    signer_party: "当事人签名", signer_officer: "执法人员签名：{name}", signer_name: "签名人姓名",
    clear: "重写", save_signature: "确认签名", signed_at: "已签名 {time}",
    need_signature: "请先在框内签名", need_signer: "请填写签名人姓名", signature_pad: "签名区：{who}",
    no_documents: "还没有文书。结束检查并出具整改通知书后，通知书会出现在这里。",
    open_pdf: "打开", pages: "{n} 页", issued: "{date} 出具", opening: "打开中…",
    failed: "操作失败：{reason}", offline_action: "网络不通，请联网后再试",
    offline_start: "网络不通：联网后自动加载；已保存在手机上的记录会自动发送。",
  },
  en: {
    title: "Field enforcement", login: "Log in", username: "Username", password: "Password",
    sign_in: "Log in", logout: "Log out", lang: "中文", lang_name: "中文", bad_login: "Wrong username or password",
    back: "Back", online: "Online", offline: "Offline", waiting: "{n} waiting to send",
    loading: "Loading…",
    not_officer: "Your account is not linked to an officer of the enforcement registry, so you "
      + "cannot take part in inspections. Ask an administrator to link it.",
    certificate: "Certificate {n}",
    invitations: "Invitations to joint inspections", today: "Today", upcoming: "Coming up (two weeks)",
    follow_up: "To follow up", no_today: "No inspection today.",
    no_today_hint: "Joint inspections are created on the enforcement desk by the initiating agency; "
      + "an invitation to your agency shows above.",
    no_upcoming: "Nothing else planned.", today_is: "{date}",
    st_scheduled: "Scheduled", st_in_progress: "In progress", st_findings_recorded: "Notice due",
    st_notice_served: "Rectifying", st_reinspection_due: "Re-inspection due", st_closed: "Closed",
    st_escalated: "Escalated", st_cancelled: "Cancelled",
    inv_invited: "Invited", inv_accepted: "Accepted", inv_declined: "Declined",
    role_initiator: "initiator", role_invited: "invited", kind_joint: "Joint inspection",
    kind_random: "Random inspection", kind_special: "Special inspection", kind_none: "Inspection",
    you_on_it: "You are on the team", officers_of: "Officers: {names}", no_officers: "No officers yet",
    navigate: "Directions", today_word: "Today", tomorrow_word: "Tomorrow",
    initiator: "Initiated by {name}", invited_items: "Your agency checks: {items}",
    accept_legend: "Officers to send (at least two with valid certificates)",
    accept_hint: "Certificates are checked for the day and the street of the inspection.",
    accept: "Accept", accepting: "Sending…", decline: "Decline…", decline_reason: "Reason (required)",
    decline_submit: "Decline", need_reason: "Say why your agency declines",
    need_two: "Choose at least two officers", choose_two: "{n} chosen; at least two must go",
    check_ok: "May go: {n} officers with valid certificates", check_bad: "May not go:",
    refused: "Not accepted:", accepted_msg: "Invitation accepted", declined_msg: "Invitation declined",
    expires: "certificate valid until {date}",
    f_time: "Time", f_place: "Place", f_business: "Business", f_credit: "Credit code", f_type: "Type",
    f_representative: "Representative", f_plan: "Plan", f_started: "Started", f_finished: "Finished",
    f_deadline: "Deadline", f_notice: "Notice", f_outcome: "Outcome",
    out_compliant: "Compliant", out_rectification: "Rectified", out_penalty: "Penalty case",
    start: "Start", finish: "Finish", issue_notice: "Issue the combined notice", serve: "Served",
    serve_method: "How it was served", started_msg: "Inspection started", finished_msg: "Inspection finished",
    issued_msg: "Notice {number} issued", served_msg: "Notice served",
    missing: "{n} checklist points have no result yet: ", missing_of: "{name}, {n}",
    tab_checklist: "Checklist", tab_signatures: "Signatures", tab_documents: "Documents",
    progress: "Your agency: {done} of {all} recorded", progress_all: "All agencies: {done} of {all} recorded",
    checklist_hint_mine: "Blue labels are your agency's points; the others' are read-only and fill in live.",
    checklist_hint_wait: "Results can be recorded once the inspection has started.",
    checklist_hint_done: "The inspection on site has finished.",
    no_checklist: "No checklist: none of the taking-part agencies' items has checklist entries.",
    basis: "Basis: {citation}", no_basis: "No basis given",
    pass: "Pass", fail: "Fail", not_applicable: "N/A", outcome: "Result",
    requirement: "Requirement", deadline: "Deadline", note: "Note (optional)",
    add_photo: "Take a photo", photo_n: "Photo {n}", remove_photo: "Remove photo {n}",
    too_many: "Up to 3 photos at a time", save: "Save result", save_again: "Save the correction",
    correct: "Correct the result",
    need_outcome: "Choose a result", need_requirement: "A failed point needs a requirement",
    need_deadline: "A failed point needs a deadline",
    queued: "Saved on the phone; it is sent when you are online", sending: "Sending…", saved: "Saved",
    not_saved: "Not saved: {reason}", by: "{agency} · {officer}", photos_n: "{n} photos",
    pending_result: "waiting to send", rectified_yes: "Rectified", rectified_no: "Not rectified",
    reinspection: "Re-inspection",
    reinspection_hint: "The deadline has passed or the business sent proof: confirm each point.",
    reinspection_note: "Note (optional)", reinspect_submit: "Record the re-inspection",
    reinspect_officers: "Re-inspecting officers (at least two)", need_results: "Say for each point whether it was rectified",
    reinspected_msg: "Re-inspection recorded", proof: "The business's proof: {note}",
    sign_hint: "The party (or their representative) and the officers sign in the boxes; the "
      + "signatures go on the on-site record.",
    signer_party: "The party's signature", signer_officer: "Officer's signature: {name}",
    signer_name: "Name of the signer", clear: "Clear", save_signature: "Confirm signature",
    signed_at: "Signed {time}", need_signature: "Sign in the box first", need_signer: "Enter the signer's name",
    signature_pad: "Signature box: {who}",
    no_documents: "No documents yet. The combined notice shows here once the inspection is finished and the notice issued.",
    open_pdf: "Open", pages: "{n} pages", issued: "issued {date}", opening: "Opening…",
    failed: "Failed: {reason}", offline_action: "No connection; try again when you are online",
    offline_start: "No connection: the page loads once you are online; what waits on the phone is sent then.",
  },
};

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const ZONE = document.documentElement.dataset.timezone || "Asia/Shanghai";
const API = "/enforcement/inspections";
const MAX_PHOTOS = 3; // what the API takes with one finding
const PHOTO_MAX_SIDE = 1600; // pixels: enough to see the defect, small enough for a weak signal
const UPCOMING_DAYS = 14; // how far ahead "coming up" looks
const REFRESH_MS = 15000; // other agencies' results on the checklist, while on site
const FOLLOW_UP = ["in_progress", "findings_recorded", "notice_served", "reinspection_due"];
const NOTICE_TITLE = "综合检查整改通知书"; // the document's own title, in every language
const SERVICE_METHODS = ["直接送达", "留置送达", "邮寄送达", "电子送达", "委托送达", "公告送达"];

let me = null; // /auth/me
let officerRows = []; // my rows in the officers' registry (one per agency I act for)
const inspections = new Map(); // id → the API's InspectionDetail
const businesses = new Map(); // id → the API's BusinessDetail
const agencyOfficers = new Map(); // agency code → its active officers
let viewing = null; // { id, pane } of the inspection on screen
let refresher = null;
let miniMap = null;
const drafts = new Map(); // "inspection:point" → photos chosen, not yet saved
const pads = new Map(); // signer key → SignaturePad

const myAgencyIds = () => new Set(officerRows.map((o) => o.agency_id));
const myOfficerIds = () => new Set(officerRows.map((o) => o.id));

// -- dates, in the centre's zone and in Chinese ------------------------------------------------

const DAY = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" });
const dayOf = (instant) => DAY.format(new Date(instant)); // "2026-11-25"
const todayIs = () => dayOf(Date.now());

function addDays(isoDay, n) {
  const d = new Date(`${isoDay}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// Midnight of a day in the centre's zone, as an instant (for the API's time filters).
function startOf(isoDay) {
  const noon = new Date(`${isoDay}T12:00:00Z`);
  const there = new Date(noon.toLocaleString("en-US", { timeZone: ZONE }));
  const here = new Date(noon.toLocaleString("en-US", { timeZone: "UTC" }));
  return new Date(Date.parse(`${isoDay}T00:00:00Z`) - (there - here)).toISOString();
}

// "2026年11月25日" / "25 Nov 2026" for a date of the API (YYYY-MM-DD).
function formatDay(isoDay) {
  if (!isoDay) return "";
  const [y, m, d] = isoDay.split("-").map(Number);
  if (ui.lang === "zh") return `${y}年${m}月${d}日`;
  return new Date(Date.UTC(y, m - 1, d))
    .toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
}

function clock(iso) {
  const options = { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false };
  return new Date(iso).toLocaleTimeString(ui.lang === "zh" ? "zh-CN" : "en-GB", options);
}

function weekday(isoDay) {
  const options = { timeZone: "UTC", weekday: "short" };
  return new Date(`${isoDay}T12:00:00Z`).toLocaleDateString(ui.lang === "zh" ? "zh-CN" : "en-GB", options);
}

// "今天 14:30", "明天 09:00", "11月27日（周五）09:00", and the year when it is not this one.
function formatWhen(iso) {
  if (!iso) return "";
  const day = dayOf(iso);
  const today = todayIs();
  let label;
  if (day === today) label = t("today_word");
  else if (day === addDays(today, 1)) label = t("tomorrow_word");
  else {
    const [y, m, d] = day.split("-").map(Number);
    const sameYear = day.slice(0, 4) === today.slice(0, 4);
    const month = new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-GB", { timeZone: "UTC", month: "short" });
    label = ui.lang === "zh"
      ? `${sameYear ? "" : `${y}年`}${m}月${d}日（${weekday(day)}）`
      : `${weekday(day)} ${d} ${month}${sameYear ? "" : ` ${y}`}`;
  }
  return `${label} ${clock(iso)}`;
}

const formatInstant = (iso) => (iso ? `${formatDay(dayOf(iso))} ${clock(iso)}` : "");
const number = (n) => Number(n).toLocaleString(ui.lang === "zh" ? "zh-CN" : "en-GB");

// -- the outbox: what is recorded without a signal waits on the phone --------------------------

// The same idea as the field app's outbox (static/outbox.js), for inspections: each entry is
// one request (a finding with its photos, a signature), kept in IndexedDB with its files so
// that a closed app loses nothing, and sent in order when the network is back. Each carries
// an idempotency key fixed when it was made, so a request whose answer was lost on the way
// back is not recorded twice.
const OUTBOX_DB = "cityops-enforcement-outbox";
const OUTBOX_STORE = "entries";

function openOutbox() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(OUTBOX_DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(OUTBOX_STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function inOutbox(mode, work) {
  const db = await openOutbox();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(OUTBOX_STORE, mode);
    const result = work(tx.objectStore(OUTBOX_STORE));
    tx.oncomplete = () => { db.close(); resolve(result.result ?? result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

const outbox = {
  listeners: new Set(),
  flushing: null,
  again: false,
  known: [], // the entries as last read, for drawing the page without waiting on IndexedDB

  async entries() {
    const all = await inOutbox("readonly", (s) => s.getAll());
    this.known = all.sort((a, b) => a.made - b.made);
    return this.known;
  },
  put: (entry) => inOutbox("readwrite", (s) => s.put(entry)),
  drop: (key) => inOutbox("readwrite", (s) => s.delete(key)),
  changed(detail) {
    for (const listener of this.listeners) listener(detail);
  },

  async add(entry) {
    await this.put({ ...entry, made: Date.now() });
    await this.entries();
    this.changed({ queued: entry });
    return this.flush();
  },

  // Send what waits, oldest first. A lost connection ends the round (the rest would fail
  // the same way); a refusal by the server drops the entry and says why, since sending it
  // again would be refused again.
  flush() {
    if (this.flushing) {
      this.again = true; // an entry added while a round runs is sent by the next round
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        await this.round();
      } while (this.again);
    })().finally(() => { this.flushing = null; });
    return this.flushing;
  },

  async round() {
    if (!token.get()) return;
    for (const entry of await this.entries()) {
      try {
        const result = await send(entry);
        await this.drop(entry.key);
        await this.entries();
        setOnline(true);
        this.changed({ sent: entry, result });
      } catch (exc) {
        if (exc instanceof ApiError && exc.status >= 400 && exc.status < 500 && ![401, 408, 429].includes(exc.status)) {
          await this.drop(entry.key);
          await this.entries();
          this.changed({ refused: entry, error: exc });
          continue;
        }
        if (!(exc instanceof ApiError)) setOnline(false);
        this.changed({ waiting: entry });
        return;
      }
    }
    this.changed({});
  },
};

// One entry: a multipart form (its files as stored) under its idempotency key.
function send(entry) {
  const form = new FormData();
  for (const [name, value] of entry.fields) {
    if (value instanceof Blob) form.append(name, value, value.name || `${name}.bin`);
    else form.append(name, value);
  }
  return api(entry.path, { method: "POST", body: form, headers: { "Idempotency-Key": entry.key } });
}

const waitingFor = (inspectionId, kind, subject) => outbox.known.find(
  (e) => e.inspectionId === inspectionId && e.kind === kind && e.subject === subject,
);

async function showOutbox() {
  const n = (await outbox.entries()).length;
  const badge = $("#outbox");
  badge.hidden = n === 0;
  badge.textContent = t("waiting", { n: number(n) });
}

outbox.listeners.add(({ sent, refused, error, result }) => {
  showOutbox().catch(() => {});
  const entry = sent || refused;
  if (!entry) return;
  if (entry.kind === "finding") findingSettled(entry, result, error);
  else if (entry.kind === "signature") signatureSettled(entry, result, error);
});

function setOnline(online) {
  const status = $("#status");
  status.dataset.online = online ? "1" : "";
  status.textContent = t(online ? "online" : "offline");
  status.className = `status ${online ? "online" : "offline"}`;
}

// -- the signature pad ----------------------------------------------------------------------

// A signature drawn with a finger, a stylus or a mouse (pointer events), kept as strokes in
// the box's own proportions so that it survives a rotation or a resize, and saved as a PNG
// on a white ground (a transparent one turns black in some PDF viewers).
class SignaturePad {
  constructor(canvas, { onChange } = {}) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.strokes = [];
    this.current = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, () => this.up());
    }
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(canvas);
    this.resize();
  }

  get empty() {
    return this.strokes.length === 0;
  }

  point(e) {
    const box = this.canvas.getBoundingClientRect();
    // A mouse reports 0.5 while pressed and a finger 0.5 or 1: only a stylus tells the truth.
    const p = e.pointerType === "pen" && e.pressure > 0 ? e.pressure : 0.5;
    return { x: (e.clientX - box.left) / box.width, y: (e.clientY - box.top) / box.height, p };
  }

  down(e) {
    if (e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.current = [this.point(e)];
    this.strokes.push(this.current);
    this.draw();
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    const events = e.getCoalescedEvents?.() || [];
    for (const one of events.length ? events : [e]) this.current.push(this.point(one));
    this.draw();
  }

  up() {
    if (!this.current) return;
    this.current = null;
    this.onChange?.(this);
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.draw();
    this.onChange?.(this);
  }

  resize() {
    const box = this.canvas.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(box.width * ratio);
    this.canvas.height = Math.round(box.height * ratio);
    this.draw();
  }

  draw(context = this.canvas.getContext("2d"), width = this.canvas.width, height = this.canvas.height, ground = null) {
    context.save();
    context.clearRect(0, 0, width, height);
    if (ground) {
      context.fillStyle = ground;
      context.fillRect(0, 0, width, height);
    }
    context.strokeStyle = "#111";
    context.fillStyle = "#111";
    context.lineCap = "round";
    context.lineJoin = "round";
    const base = Math.max(2, width / 160);
    for (const stroke of this.strokes) {
      if (stroke.length === 1) { // a dot
        const [{ x, y, p }] = stroke;
        context.beginPath();
        context.arc(x * width, y * height, (base * (0.5 + p)) / 2, 0, Math.PI * 2);
        context.fill();
        continue;
      }
      // Smoothed through the midpoints, one quadratic curve a segment, as wide as pressed.
      for (let i = 1; i < stroke.length; i += 1) {
        const a = stroke[i - 1];
        const b = stroke[i];
        const before = i > 1 ? stroke[i - 2] : a;
        context.beginPath();
        context.lineWidth = base * (0.5 + (a.p + b.p) / 2);
        context.moveTo(((before.x + a.x) / 2) * width, ((before.y + a.y) / 2) * height);
        context.quadraticCurveTo(a.x * width, a.y * height, ((a.x + b.x) / 2) * width, ((a.y + b.y) / 2) * height);
        context.stroke();
      }
    }
    context.restore();
  }

  // The signature as a PNG of a fixed size whatever the screen, in the box's 5 : 2: 600 ×
  // 240 px stays sharp at the 5 × 2 cm it takes on an A4 record.
  toBlob(width = 600, height = 240) {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    this.draw(canvas.getContext("2d"), width, height, "#fff");
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }
}

// -- photos -------------------------------------------------------------------------------

// A phone photo is several megabytes: it is scaled down and re-encoded before it is kept or
// sent (as the residents' page does). A picture the browser cannot decode goes as it is,
// and the server says whether it takes it.
async function shrink(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
    if (!blob) return file;
    return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
  } catch {
    return file;
  }
}

// -- errors next to the field they name ------------------------------------------------------

// The API's 422 names each bad field by its path ("deadline", "officer_ids.1"); the message
// goes under that field, or under the form when the form has no such field.
function showProblem(root, exc, fallback = "form") {
  const problem = exc instanceof ApiError ? exc.problem : {};
  const errors = problem.errors || [];
  if (!(exc instanceof ApiError)) return showError(root, fallback, t("offline_action"));
  if (!errors.length) return showError(root, fallback, problem.detail || exc.message);
  const shown = new Map();
  for (const e of errors) {
    const field = e.path.split(".")[0];
    const target = root.querySelector(`[data-error-for="${field}"]`) ? field : fallback;
    shown.set(target, [...(shown.get(target) || []), target === field ? e.message : `${e.path}: ${e.message}`]);
  }
  for (const [field, messages] of shown) showError(root, field, messages.join("；"));
  return null;
}

function showError(root, field, message) {
  const box = root.querySelector(`[data-error-for="${field}"]`) || root.querySelector("[data-error-for=form]");
  if (!box) return null;
  box.textContent = message;
  box.hidden = false;
  return box;
}

function hideErrors(root) {
  for (const box of root.querySelectorAll("[data-error-for]")) box.hidden = true;
}

function say(box, message) {
  box.textContent = message;
  box.hidden = !message;
}

// -- logging in -----------------------------------------------------------------------------

function showLogin() {
  stopRefresh();
  token.clear();
  me = null;
  $("#login").hidden = false;
  $("#app").hidden = true;
  $("#logout").hidden = true;
  $("#back").hidden = true;
}
whenUnauthorized(showLogin);

async function logInSubmitted(event) {
  event.preventDefault();
  let ok = false;
  try {
    ok = await logIn(new FormData(event.target));
    say($("#login-error"), ok ? "" : t("bad_login"));
  } catch {
    say($("#login-error"), t("offline_action"));
  }
  if (ok) begin();
}

// Without a signal the login is kept (what waits in the outbox needs it): the page says so
// and starts once the network is back.
function begin() {
  start().catch((exc) => {
    if (exc instanceof ApiError) return showLogin();
    setOnline(false);
    $("#login").hidden = true;
    $("#app").hidden = false;
    say($("#today-error"), t("offline_start"));
    window.addEventListener("online", begin, { once: true });
    return null;
  });
}

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#logout").hidden = false;
  setOnline(navigator.onLine);
  await findMyOfficerRows();
  showWho();
  await showOutbox();
  outbox.flush();
  await route();
}

// The officer rows of the person logged in (Officer.person_id), one per agency; none (404)
// for staff who are not officers.
async function findMyOfficerRows() {
  try {
    officerRows = await api("/enforcement/officers/me");
  } catch (exc) {
    if (!(exc instanceof ApiError) || exc.status !== 404) throw exc;
    officerRows = [];
  }
}

function showWho() {
  $("#who-name").textContent = officerRows[0]?.name || me.name;
  $("#who-agency").textContent = officerRows.map((o) => o.agency_name).join("、");
  $("#who-certificate").textContent = officerRows.map((o) => t("certificate", { n: o.certificate_number })).join("、");
  $("#not-officer").hidden = officerRows.length > 0;
}

// -- routing: #/ (today) and #/inspection/<id>/<pane> ----------------------------------------

async function route() {
  if (!me) return;
  const match = location.hash.match(/^#\/inspection\/(\d+)(?:\/(checklist|signatures|documents))?/);
  if (match) {
    await openInspection(Number(match[1]), match[2] || "checklist");
  } else {
    viewing = null;
    stopRefresh();
    $("#view-inspection").hidden = true;
    $("#view-today").hidden = false;
    $("#back").hidden = true;
    await loadToday();
  }
}

// -- today ----------------------------------------------------------------------------------

async function loadToday() {
  const error = $("#today-error");
  say(error, "");
  $("#today-loading").hidden = false;
  try {
    const today = todayIs();
    const from = startOf(today);
    const until = startOf(addDays(today, UPCOMING_DAYS + 1));
    // Mine only (on it, or my agency asked): the coming days, and those still in hand. The
    // rows carry the agencies' answers and officers, all the cards need.
    const coming = new URLSearchParams({ mine: "true", scheduled_from: from, scheduled_until: until, limit: "100" });
    const inHand = new URLSearchParams({ mine: "true", limit: "100" });
    for (const state of FOLLOW_UP) inHand.append("state", state);
    const pages = await Promise.all([api(`${API}?${coming}`), api(`${API}?${inHand}`)]);
    const rows = new Map();
    for (const page of pages) for (const row of page.items) rows.set(row.id, row);
    renderToday([...rows.values()], today);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) return;
    say(error, t("failed", { reason: exc instanceof ApiError ? exc.message : t("offline_action") }));
    if (!(exc instanceof ApiError)) setOnline(false);
  } finally {
    $("#today-loading").hidden = true;
  }
}

function myPart(inspection) {
  const mine = myAgencyIds();
  return inspection.agencies.find((a) => mine.has(a.agency_id)) || null;
}

function onTeam(inspection) {
  const ids = myOfficerIds();
  return inspection.agencies.some((a) => a.state === "accepted" && a.officers.some((o) => ids.has(o.officer_id)));
}

function renderToday(rows, today) {
  $("#today-date").textContent = `${formatDay(today)} ${weekday(today)}`;
  const byTime = (a, b) => Date.parse(a.scheduled_at || 0) - Date.parse(b.scheduled_at || 0);
  const open = rows.filter((d) => d.state !== "cancelled").sort(byTime);
  const invitations = open.filter((d) => d.state === "scheduled" && myPart(d)?.state === "invited");
  const taking = open.filter((d) => myPart(d)?.state === "accepted");
  const isToday = (d) => d.scheduled_at && dayOf(d.scheduled_at) === today;
  const todays = taking.filter((d) => isToday(d) || d.state === "in_progress");
  const later = taking.filter((d) => d.state === "scheduled" && d.scheduled_at && dayOf(d.scheduled_at) > today);
  const follow = taking.filter((d) => !todays.includes(d) && FOLLOW_UP.includes(d.state) && d.state !== "in_progress");

  $("#invitations-box").hidden = invitations.length === 0;
  $("#invitation-count").textContent = invitations.length ? number(invitations.length) : "";
  fill($("#invitations"), invitations, invitationCard);
  fill($("#today-list"), [...todays, ...follow], inspectionCard);
  $("#today-empty").hidden = todays.length + follow.length > 0;
  fill($("#upcoming-list"), later, inspectionCard);
  $("#upcoming-empty").hidden = later.length > 0;
}

// Replace a list's cards, keeping a card whose form the officer is filling in.
function fill(list, items, make) {
  const keep = new Map($$(":scope > li", list).filter((li) => li.contains(document.activeElement) || li.dataset.busy)
    .map((li) => [li.dataset.id, li]));
  list.replaceChildren(...items.map((d) => keep.get(String(d.id)) || make(d)));
}

function agencyList(list, inspection) {
  const mine = myAgencyIds();
  const first = (a) => Number(a.role === "initiator");
  const initiatorFirst = [...inspection.agencies].sort((x, y) => first(y) - first(x));
  list.replaceChildren(...initiatorFirst.map((a) => {
    const li = document.createElement("li");
    li.dataset.agencyId = a.agency_id;
    li.dataset.state = a.state;
    li.classList.toggle("mine", mine.has(a.agency_id));
    const name = document.createElement("span");
    name.className = "agency-name";
    name.textContent = a.name;
    const role = document.createElement("span");
    role.className = "muted small";
    role.textContent = t(`role_${a.role}`);
    const badge = document.createElement("span");
    badge.className = `badge ${a.state}`;
    badge.textContent = t(`inv_${a.state}`);
    li.append(name, role, badge);
    if (a.officers.length) {
      const people = document.createElement("span");
      people.className = "agency-officers";
      people.textContent = a.officers.map((o) => `${o.name}（${o.certificate_number}）`).join("、");
      li.append(people);
    }
    if (a.state === "declined" && a.reason) {
      const reason = document.createElement("span");
      reason.className = "agency-reason";
      reason.textContent = a.reason;
      li.append(reason);
    }
    return li;
  }));
}

function navLink(link, business, inspection) {
  if (business?.lon == null || business?.lat == null) {
    link.hidden = true;
    return;
  }
  // 高德 opens its app where installed, its web map elsewhere; the point is WGS 84.
  const params = new URLSearchParams({
    position: `${business.lon},${business.lat}`, name: business.name || inspection.business_name,
    coordinate: "wgs84", callnative: "1", src: "cityops",
  });
  link.href = `https://uri.amap.com/marker?${params}`;
  link.textContent = t("navigate");
  link.hidden = false;
}

async function business(id) {
  if (!businesses.has(id)) businesses.set(id, await api(`/enforcement/businesses/${id}`));
  return businesses.get(id);
}

function kindOf(inspection) {
  return t(`kind_${inspection.plan_kind || "none"}`);
}

function inspectionCard(d) {
  const li = $("#inspection-card").content.firstElementChild.cloneNode(true);
  li.dataset.id = d.id;
  li.dataset.state = d.state;
  const open = $("a.open", li);
  open.href = `#/inspection/${d.id}`;
  $(".name", li).textContent = d.business_name;
  const badge = $(".badge", li);
  badge.className = `badge ${d.state}`;
  badge.textContent = t(`st_${d.state}`);
  $(".when", li).textContent = formatWhen(d.scheduled_at);
  $(".place", li).textContent = d.place;
  $(".kind", li).textContent = [kindOf(d), d.plan_number, onTeam(d) ? t("you_on_it") : ""].filter(Boolean).join(" · ");
  agencyList($(".agencies", li), d);
  const link = $("a.nav", li);
  link.hidden = true;
  business(d.business_id).then((b) => navLink(link, b, d)).catch(() => {});
  return li;
}

// -- invitations: accept with officers checked against their certificates, or decline --------

function invitationCard(d) {
  const li = $("#invitation-card").content.firstElementChild.cloneNode(true);
  li.dataset.id = d.id;
  const part = myPart(d);
  $(".name", li).textContent = d.business_name;
  $(".badge", li).textContent = t("inv_invited");
  $(".when", li).textContent = formatWhen(d.scheduled_at);
  $(".place", li).textContent = d.place;
  const initiator = d.agencies.find((a) => a.role === "initiator");
  $(".initiator", li).textContent = [
    initiator ? t("initiator", { name: initiator.name }) : "",
    part.item_codes.length ? t("invited_items", { items: part.item_codes.join("、") }) : "",
  ].filter(Boolean).join(" · ");
  agencyList($(".agencies", li), d);
  $(".accept legend", li).textContent = t("accept_legend");
  $(".officers-hint", li).textContent = t("accept_hint");
  $(".accept button[type=submit]", li).textContent = t("accept");
  $(".decline summary", li).textContent = t("decline");
  $(".reason-label", li).textContent = t("decline_reason");
  $(".decline-form button", li).textContent = t("decline_submit");
  const reason = $("textarea[name=reason]", li);
  reason.id = `reason-${d.id}`;
  reason.addEventListener("input", () => { $("[data-error-for=reason]", li).hidden = true; });
  $(".accept", li).addEventListener("submit", (e) => { e.preventDefault(); acceptInvitation(d, li).catch(() => {}); });
  $(".decline-form", li).addEventListener("submit", (e) => {
    e.preventDefault();
    declineInvitation(d, li).catch(() => {});
  });
  officerChoices(d, li).catch((exc) => showProblem(li, exc, "officer_ids"));
  return li;
}

async function officersOf(agency) {
  if (!agencyOfficers.has(agency.code)) {
    const page = await api(`/enforcement/officers?agency=${encodeURIComponent(agency.code)}&active=true&limit=100`);
    agencyOfficers.set(agency.code, page.items);
  }
  return agencyOfficers.get(agency.code);
}

async function officerChoices(d, li) {
  const part = myPart(d);
  const box = $(".officer-choices", li);
  const people = await officersOf(part);
  const named = new Set(part.officers.map((o) => o.officer_id));
  const mine = myOfficerIds();
  box.replaceChildren(...people.map((o) => {
    const label = document.createElement("label");
    label.className = "officer";
    label.dataset.officerId = o.id;
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "officer_ids";
    input.value = o.id;
    input.checked = named.has(o.id) || mine.has(o.id);
    const text = document.createElement("div");
    const name = document.createElement("span");
    name.textContent = o.name;
    const small = document.createElement("small");
    small.textContent = `${o.certificate_number} · ${t("expires", { date: formatDay(o.valid_until) })}`;
    const problem = document.createElement("small");
    problem.className = "problem";
    text.append(name, small, problem);
    label.append(input, text);
    input.addEventListener("change", () => {
      $("[data-error-for=officer_ids]", li).hidden = true;
      checkOfficers(d, li).catch(() => {});
    });
    return label;
  }));
  await checkOfficers(d, li);
}

function chosenOfficers(li) {
  return $$("input[name=officer_ids]:checked", li).map((i) => Number(i.value));
}

// What the registry says of the officers chosen, for the day and street of the inspection,
// before the officer presses "accept" (the accept call checks the same again).
async function checkOfficers(d, li) {
  const ids = chosenOfficers(li);
  const result = $(".check-result", li);
  for (const label of $$("label.officer", li)) {
    label.classList.remove("blocking", "warning");
    $(".problem", label).textContent = "";
  }
  if (ids.length < 2) { // Art. 42: two at least; no need to ask the registry yet
    result.className = "check-result small";
    result.textContent = t("choose_two", { n: number(ids.length) });
    return;
  }
  const check = await api("/enforcement/officers/check", {
    method: "POST", json: { officer_ids: ids, region_code: d.region_code, on: dayOf(d.scheduled_at) },
  });
  for (const p of check.problems) {
    const label = li.querySelector(`label.officer[data-officer-id="${p.officer_id}"]`);
    if (!label) continue;
    label.classList.add(p.blocking ? "blocking" : "warning");
    $(".problem", label).textContent = p.message;
  }
  const blocking = check.problems.filter((p) => p.blocking);
  result.className = `check-result small ${check.ok ? "ok" : "bad"}`;
  result.textContent = check.ok
    ? t("check_ok", { n: number(ids.length - new Set(blocking.map((p) => p.officer_id)).size) })
    : `${t("check_bad")} ${blocking.map((p) => p.message).join("；")}`;
}

async function acceptInvitation(d, li) {
  hideErrors(li);
  const ids = chosenOfficers(li);
  if (ids.length < 2) return showError(li, "officer_ids", t("need_two"));
  const part = myPart(d);
  const button = $(".accept button[type=submit]", li);
  button.disabled = true;
  button.textContent = t("accepting");
  li.dataset.busy = "1";
  try {
    const path = `${API}/${d.id}/agencies/${part.agency_id}/accept`;
    const updated = await api(path, { method: "POST", json: { officer_ids: ids } });
    inspections.set(updated.id, updated);
    delete li.dataset.busy;
    await loadToday();
    toast(t("accepted_msg"));
  } catch (exc) {
    delete li.dataset.busy;
    refusal(li, exc, ids);
  } finally {
    button.disabled = false;
    button.textContent = t("accept");
  }
}

// The API's refusal, in full: each officer's problem on their line, and all of them under
// the list, so that the officer sees why before choosing others.
function refusal(li, exc, ids) {
  if (!(exc instanceof ApiError)) return showError(li, "officer_ids", t("offline_action"));
  const errors = exc.problem.errors || [];
  const lines = [];
  for (const e of errors) {
    const index = Number(e.path.split(".")[1]);
    const label = Number.isInteger(index) ? li.querySelector(`label.officer[data-officer-id="${ids[index]}"]`) : null;
    if (label) {
      label.classList.add("blocking");
      $(".problem", label).textContent = e.message;
    }
    lines.push(e.message);
  }
  const box = showError(li, "officer_ids", `${t("refused")} ${lines.join("；") || exc.message}`);
  box?.scrollIntoView({ block: "nearest" });
}

async function declineInvitation(d, li) {
  hideErrors(li);
  const reason = $("textarea[name=reason]", li).value.trim();
  if (!reason) return showError(li, "reason", t("need_reason"));
  const part = myPart(d);
  try {
    const updated = await api(`${API}/${d.id}/agencies/${part.agency_id}/decline`, { method: "POST", json: { reason } });
    inspections.set(updated.id, updated);
    await loadToday();
    toast(t("declined_msg"));
  } catch (exc) {
    showProblem(li, exc, "reason");
  }
}

function toast(message) {
  const box = $("#today-error");
  box.className = "notice";
  box.setAttribute("role", "status");
  say(box, message);
  setTimeout(() => {
    box.className = "error";
    box.setAttribute("role", "alert");
    box.hidden = true;
  }, 4000);
}

// -- one inspection -------------------------------------------------------------------------

async function openInspection(id, pane) {
  const first = viewing?.id !== id;
  viewing = { id, pane };
  $("#view-today").hidden = true;
  $("#view-inspection").hidden = false;
  $("#back").hidden = false;
  showPane(pane);
  if (first) {
    window.scrollTo(0, 0);
    $("#checklist").replaceChildren();
    $("#signers").replaceChildren();
    pads.clear();
    $("#checklist-loading").hidden = false;
    say($("#inspection-notice"), "");
    say($("#inspection-error"), "");
    if (inspections.has(id)) renderInspection(inspections.get(id));
  }
  await refresh();
  startRefresh();
}

async function refresh() {
  if (!viewing) return;
  const { id } = viewing;
  try {
    const d = await api(`${API}/${id}`);
    inspections.set(id, d);
    if (viewing?.id === id) renderInspection(d);
    if (viewing?.id === id && viewing.pane === "documents") await loadDocuments(d);
  } catch (exc) {
    if (exc instanceof ApiError) say($("#inspection-error"), t("failed", { reason: exc.message }));
    else setOnline(false);
  } finally {
    $("#checklist-loading").hidden = true;
  }
}

// While on site, the other agencies' results come in: read the inspection again now and
// then (and at once when the phone is back online or the page back in view).
function startRefresh() {
  stopRefresh();
  refresher = setInterval(() => {
    const d = viewing && inspections.get(viewing.id);
    if (document.visibilityState === "visible" && d && ["scheduled", "in_progress"].includes(d.state)) refresh();
  }, REFRESH_MS);
}

function stopRefresh() {
  if (refresher) clearInterval(refresher);
  refresher = null;
}

function showPane(pane) {
  for (const button of $$(".tabs button")) {
    const selected = button.dataset.pane === pane;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  for (const name of ["checklist", "signatures", "documents"]) $(`#pane-${name}`).hidden = name !== pane;
}

function switchPane(pane) {
  if (!viewing) return;
  history.replaceState(null, "", `#/inspection/${viewing.id}/${pane}`);
  viewing.pane = pane;
  showPane(pane);
  const d = inspections.get(viewing.id);
  if (d && pane === "documents") loadDocuments(d).catch(() => {});
  if (d && pane === "signatures") renderSigners(d);
}

function renderInspection(d) {
  $("#inspection-name").textContent = d.business_name;
  const badge = $("#inspection-state");
  badge.className = `badge ${d.state}`;
  badge.textContent = t(`st_${d.state}`);
  $("#inspection-number").textContent = [kindOf(d), d.plan_number].filter(Boolean).join(" · ");
  renderFacts(d);
  agencyList($("#inspection-agencies"), d);
  renderActions(d);
  renderChecklist(d);
  renderReinspection(d);
  if (viewing.pane === "signatures") renderSigners(d);
  business(d.business_id).then((b) => {
    if (viewing?.id !== d.id) return;
    renderFacts(d, b);
    navLink($("#inspection-nav"), b, d);
    showMap(b);
  }).catch(() => {});
}

function renderFacts(d, b = businesses.get(d.business_id)) {
  const facts = [
    ["time", "f_time", formatWhen(d.scheduled_at)],
    ["place", "f_place", d.place],
    ["credit", "f_credit", d.business.credit_code],
    ["type", "f_type", b?.type_name || d.business.type_code],
    ["representative", "f_representative", b?.representative],
    ["started", "f_started", formatInstant(d.started_at)],
    ["finished", "f_finished", formatInstant(d.finished_at)],
    ["notice", "f_notice", d.notice ? d.notice.number : ""],
    ["deadline", "f_deadline", formatDay(d.rectification_deadline)],
    ["outcome", "f_outcome", d.outcome ? t(`out_${d.outcome}`) : ""],
  ];
  $("#inspection-facts").replaceChildren(...facts.filter(([, , v]) => v).flatMap(([name, key, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.dataset.fact = name;
    dd.textContent = value;
    return [dt, dd];
  }));
}

// The business on a small map: the base tiles where configured, its grid from our own data
// and its point.
function showMap(b) {
  const box = $("#inspection-map");
  if (b.lon == null || b.lat == null) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.setAttribute("aria-label", `${b.name} ${b.address}`);
  if (!miniMap) {
    // A picture of where the business is, not a map to pan: the page scrolls over it.
    miniMap = L.map(box, {
      attributionControl: false, zoomControl: false, dragging: false, scrollWheelZoom: false,
      doubleClickZoom: false, touchZoom: false, keyboard: false,
    });
    const tiles = document.documentElement.dataset.tiles;
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(miniMap);
    miniMap.group = L.layerGroup().addTo(miniMap);
  }
  if (miniMap.shown === b.id) return; // drawn already: a refresh leaves it be
  miniMap.shown = b.id;
  miniMap.group.clearLayers();
  miniMap.invalidateSize();
  miniMap.setView([b.lat, b.lon], 16);
  const pin = { radius: 9, weight: 3, color: "#c53030", fillColor: "#c53030", fillOpacity: 0.5 };
  L.circleMarker([b.lat, b.lon], { ...pin, className: "business-marker" })
    .bindTooltip(b.name, { permanent: true, direction: "top", offset: [0, -8] }).addTo(miniMap.group);
  const code = b.grid_code || b.region_code;
  if (code) {
    api(`/regions/${code}`).then((region) => {
      if (!region.geometry) return;
      const style = { color: "#0b5cad", weight: 1.5, fillOpacity: 0.05, dashArray: "4 4" };
      const shape = L.geoJSON(region.geometry, { style, interactive: false }).addTo(miniMap.group);
      miniMap.fitBounds(shape.getBounds().extend([b.lat, b.lon]), { padding: [24, 24], maxZoom: 18 });
    }).catch(() => {});
  }
}

// -- starting, finishing, the notice --------------------------------------------------------

function onSite(d) {
  const ids = myOfficerIds();
  for (const a of d.agencies) {
    if (a.state !== "accepted") continue;
    const officer = a.officers.find((o) => ids.has(o.officer_id));
    if (officer) return { agencyId: a.agency_id, officerId: officer.officer_id };
  }
  return null;
}

function renderActions(d) {
  const here = onSite(d);
  const lead = here?.agencyId === d.lead_agency_id;
  const ofLead = myAgencyIds().has(d.lead_agency_id);
  $("#start").hidden = !(here && d.state === "scheduled");
  $("#finish").hidden = !(lead && d.state === "in_progress");
  $("#issue").hidden = !(ofLead && d.state === "findings_recorded" && !d.notice);
  let serve = $("#serve");
  const serving = ofLead && d.state === "findings_recorded" && d.notice && !d.notice.served_at;
  if (serving && !serve) {
    serve = document.createElement("form");
    serve.id = "serve";
    serve.className = "serve";
    const label = document.createElement("label");
    const span = document.createElement("span");
    span.dataset.t = "serve_method";
    span.textContent = t("serve_method");
    const select = document.createElement("select");
    select.name = "method";
    select.id = "serve-method";
    for (const m of SERVICE_METHODS) select.add(new Option(m, m));
    label.append(span, select);
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "primary";
    button.dataset.t = "serve";
    button.textContent = t("serve");
    serve.append(label, button);
    serve.addEventListener("submit", (e) => {
      e.preventDefault();
      act("notice/serve", { method: select.value }, "served_msg");
    });
    $("#inspection-actions").after(serve);
  }
  if (serve) serve.hidden = !serving;
}

async function act(action, json, done) {
  const d = inspections.get(viewing.id);
  const error = $("#inspection-error");
  say(error, "");
  say($("#inspection-notice"), "");
  for (const b of $$("#inspection-actions button, #serve button")) b.disabled = true;
  try {
    const updated = await api(`${API}/${d.id}/${action}`, { method: "POST", json });
    inspections.set(updated.id, updated);
    renderInspection(updated);
    say($("#inspection-notice"), t(done, { number: updated.notice?.number || "" }));
    if (action === "notice") {
      switchPane("documents");
      $(".tabs").scrollIntoView({ block: "start", behavior: "smooth" });
    }
  } catch (exc) {
    explainAction(exc);
  } finally {
    for (const b of $$("#inspection-actions button, #serve button")) b.disabled = false;
  }
}

// A refused finish names each checklist point without a result: say how many, list them,
// and mark those points on the checklist.
function explainAction(exc) {
  const error = $("#inspection-error");
  if (!(exc instanceof ApiError)) return say(error, t("offline_action"));
  const errors = exc.problem.errors || [];
  const missing = errors.filter((e) => e.path.startsWith("checklist."));
  if (!missing.length) {
    return say(error, t("failed", { reason: [exc.message, ...errors.map((e) => `${e.path}: ${e.message}`)].join("；") }));
  }
  const d = inspections.get(viewing.id);
  const byAgency = new Map();
  for (const e of missing) {
    const point = d.checklist.find((p) => p.code === e.path.slice("checklist.".length));
    if (!point) continue;
    document.getElementById(`point-${point.id}`)?.classList.add("missing");
    const answered = new Set(findingsOf(d, point).map((f) => f.agency_id));
    for (const agency of point.agencies.filter((a) => !answered.has(a.id))) {
      byAgency.set(agency.name, (byAgency.get(agency.name) || 0) + 1);
    }
  }
  const lines = [...byAgency].map(([name, n]) => t("missing_of", { name, n: number(n) }));
  say(error, `${t("missing", { n: number(missing.length) })}${lines.join("；")}`);
}

// -- the merged checklist -------------------------------------------------------------------

function findingsOf(d, point) {
  const ids = new Set(point.checklist_item_ids);
  return d.findings.filter((f) => f.checklist_item_id !== null && ids.has(f.checklist_item_id));
}

function renderChecklist(d) {
  const list = $("#checklist");
  const here = onSite(d);
  const mine = myAgencyIds();
  const recording = d.state === "in_progress" && Boolean(here);
  $("#checklist-empty").hidden = d.checklist.length > 0;
  $("#checklist-hint").textContent = d.state === "scheduled" ? t("checklist_hint_wait")
    : d.state === "in_progress" ? t("checklist_hint_mine") : t("checklist_hint_done");
  let all = 0;
  let done = 0;
  let mineAll = 0;
  let mineDone = 0;
  for (const point of d.checklist) {
    for (const agency of point.agencies) {
      const answered = findingsOf(d, point).some((f) => f.agency_id === agency.id)
        || Boolean(waitingFor(d.id, "finding", `${point.id}:${agency.id}`));
      all += 1;
      done += answered ? 1 : 0;
      if (mine.has(agency.id)) {
        mineAll += 1;
        mineDone += answered ? 1 : 0;
      }
    }
  }
  $("#checklist-progress").textContent = [
    here ? t("progress", { done: number(mineDone), all: number(mineAll) }) : "",
    t("progress_all", { done: number(done), all: number(all) }),
  ].filter(Boolean).join(" · ");
  const cards = d.checklist.map((point) => {
    let card = document.getElementById(`point-${point.id}`);
    if (!card) card = entryCard(d, point);
    updateEntry(card, d, point, recording && here && point.agencies.some((a) => a.id === here.agencyId) ? here : null);
    return card;
  });
  // Keep the cards in place (a form being filled in keeps its text and focus).
  if (cards.some((c, i) => list.children[i] !== c) || list.children.length !== cards.length) {
    list.replaceChildren(...cards);
  }
}

function entryCard(d, point) {
  const card = $("#entry-card").content.firstElementChild.cloneNode(true);
  card.id = `point-${point.id}`;
  card.dataset.pointId = point.id;
  card.dataset.code = point.code;
  $(".entry-text", card).textContent = point.text;
  const form = $("form.record", card);
  const name = `outcome-${point.id}`;
  for (const radio of $$("input[type=radio]", form)) {
    radio.name = name;
    radio.addEventListener("change", () => {
      $(".fail-fields", form).hidden = radio.value !== "fail" || !radio.checked;
      hideErrors(card);
    });
  }
  const deadline = $("input[name=deadline]", form);
  deadline.min = addDays(todayIs(), 1);
  for (const name of ["requirement", "deadline", "note"]) $(`[name=${name}]`, form).id = `${name}-${point.id}`;
  const photo = $("input[name=photo]", form);
  photo.id = `photo-${point.id}`;
  photo.addEventListener("change", (e) => photosChosen(d.id, point.id, card, e.target).catch(() => {}));
  form.addEventListener("submit", (e) => { e.preventDefault(); saveFinding(d.id, point.id, card).catch(() => {}); });
  // A field's error goes as soon as the officer changes that field.
  form.addEventListener("input", (e) => {
    const field = e.target.type === "radio" ? "outcome" : e.target.type === "file" ? "photos" : e.target.name;
    const box = card.querySelector(`[data-error-for="${field}"]`);
    if (box) box.hidden = true;
  });
  $("button.edit", card).addEventListener("click", () => {
    card.dataset.editing = "1";
    updateEntry(card, inspections.get(d.id), point, onSite(inspections.get(d.id)));
    $("input[type=radio]:checked", form)?.focus();
  });
  return card;
}

function updateEntry(card, d, point, here) {
  const mine = myAgencyIds();
  const labels = $(".labels", card);
  labels.replaceChildren(...point.agencies.map((a) => {
    const span = document.createElement("span");
    span.className = `label${mine.has(a.id) ? " mine" : ""}`;
    span.dataset.agencyId = a.id;
    span.textContent = a.name;
    return span;
  }));
  $(".basis", card).textContent = point.citation ? t("basis", { citation: point.citation }) : t("no_basis");
  const found = findingsOf(d, point);
  const waiting = here ? waitingFor(d.id, "finding", `${point.id}:${here.agencyId}`) : null;
  card.classList.toggle("readonly", !here);
  card.classList.toggle("mine", point.agencies.some((a) => mine.has(a.id)));
  card.classList.toggle("pending", Boolean(waiting));
  const everyone = point.agencies.every((a) => found.some((f) => f.agency_id === a.id));
  card.classList.toggle("done", everyone);
  card.classList.toggle("failed", found.some((f) => f.outcome === "fail"));
  if (everyone) card.classList.remove("missing");
  renderResults($(".results", card), d, found, waiting);
  const form = $("form.record", card);
  const own = here ? found.find((f) => f.agency_id === here.agencyId) : null;
  // Once recorded, the form folds away behind "correct" (the list stays short on a phone).
  const edit = $("button.edit", card);
  edit.hidden = !here || !own || Boolean(card.dataset.editing) || Boolean(waiting);
  edit.textContent = t("correct");
  form.hidden = !here || (Boolean(own || waiting) && !card.dataset.editing);
  if (!here) return;
  // The form's words; its values only when the officer is not in the middle of it.
  $("legend", form).textContent = t("outcome");
  for (const value of ["pass", "fail", "not_applicable"]) $(`label.${value} span`, form).textContent = t(value);
  $(".requirement-label", form).textContent = t("requirement");
  $(".deadline-label", form).textContent = t("deadline");
  $(".note-label", form).textContent = t("note");
  $(".add-photo span", form).textContent = t("add_photo");
  $(".save", form).textContent = own ? t("save_again") : t("save");
  const busy = form.contains(document.activeElement) || form.dataset.dirty || card.dataset.editing;
  if (own && !busy && !waiting) {
    for (const radio of $$("input[type=radio]", form)) radio.checked = radio.value === own.outcome;
    $("textarea[name=requirement]", form).value = own.requirement;
    $("input[name=deadline]", form).value = own.deadline || "";
    $("textarea[name=note]", form).value = own.note;
    $(".fail-fields", form).hidden = own.outcome !== "fail";
  }
  const note = $(".waiting", card);
  note.hidden = !waiting;
  note.textContent = t("queued");
  renderDraftPhotos(d.id, point.id, card);
}

function renderResults(box, d, found, waiting) {
  const rows = found.map((f) => {
    const div = document.createElement("div");
    div.className = `result ${f.outcome}`;
    div.dataset.agencyId = f.agency_id;
    div.dataset.findingId = f.id;
    const head = document.createElement("p");
    const tag = document.createElement("span");
    tag.className = "outcome-tag";
    tag.textContent = t(f.outcome);
    const who = document.createElement("span");
    who.className = "muted";
    who.textContent = t("by", { agency: f.agency_name, officer: f.officer_name });
    head.append(tag, who);
    div.append(head);
    if (f.outcome === "fail") {
      const req = document.createElement("p");
      req.textContent = `${t("requirement")}：${f.requirement}（${t("deadline")} ${formatDay(f.deadline)}）`;
      div.append(req);
    }
    if (f.rectified !== null) {
      const re = document.createElement("p");
      re.className = "small";
      re.textContent = [t(f.rectified ? "rectified_yes" : "rectified_no"), f.reinspection_note].filter(Boolean).join("：");
      div.append(re);
    }
    if (f.note) {
      const note = document.createElement("p");
      note.className = "small muted";
      note.textContent = f.note;
      div.append(note);
    }
    if (f.photos) {
      const thumbs = document.createElement("div");
      thumbs.className = "thumbs";
      for (let n = 0; n < f.photos; n += 1) {
        const img = document.createElement("img");
        img.alt = `${f.agency_name} ${t("photo_n", { n: n + 1 })}`;
        img.loading = "lazy";
        thumbs.append(img);
        blobUrl(`/api/v1${API}/${d.id}/findings/${f.id}/photos/${n}`).then((url) => { img.src = url; }).catch(() => {});
      }
      div.append(thumbs);
    }
    return div;
  });
  if (waiting) {
    const div = document.createElement("div");
    div.className = `result ${waiting.outcome} pending`;
    const head = document.createElement("p");
    const tag = document.createElement("span");
    tag.className = "outcome-tag";
    tag.textContent = t(waiting.outcome);
    const who = document.createElement("span");
    who.className = "muted";
    who.textContent = t("pending_result");
    head.append(tag, who);
    div.append(head);
    rows.push(div);
  }
  box.replaceChildren(...rows);
}

// Photos chosen for a point wait, shrunk, until the result is saved with them.
async function photosChosen(inspectionId, pointId, card, input) {
  const files = [...input.files];
  input.value = ""; // the same picture may be taken again after it was removed
  hideErrors(card);
  const key = `${inspectionId}:${pointId}`;
  const photos = drafts.get(key) || [];
  const room = MAX_PHOTOS - photos.length;
  if (files.length > room) showError(card, "photos", t("too_many"));
  for (const file of files.slice(0, Math.max(room, 0))) {
    const small = await shrink(file);
    photos.push({ file: small, url: URL.createObjectURL(small) });
  }
  drafts.set(key, photos);
  $("form.record", card).dataset.dirty = "1";
  renderDraftPhotos(inspectionId, pointId, card);
}

function renderDraftPhotos(inspectionId, pointId, card) {
  const key = `${inspectionId}:${pointId}`;
  const photos = drafts.get(key) || [];
  $("form.record .thumbs", card).replaceChildren(...photos.map((photo, i) => {
    const figure = document.createElement("figure");
    figure.className = "thumb";
    const img = document.createElement("img");
    img.src = photo.url;
    img.alt = t("photo_n", { n: i + 1 });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("remove_photo", { n: i + 1 }));
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      photos.splice(i, 1);
      renderDraftPhotos(inspectionId, pointId, card);
    });
    figure.append(img, remove);
    return figure;
  }));
  $("label.add-photo", card).hidden = photos.length >= MAX_PHOTOS;
}

// A result goes through the outbox: sent at once with a signal, kept and sent later without.
async function saveFinding(inspectionId, pointId, card) {
  const d = inspections.get(inspectionId);
  const here = onSite(d);
  const form = $("form.record", card);
  hideErrors(card);
  const outcome = $("input[type=radio]:checked", form)?.value;
  const requirement = $("textarea[name=requirement]", form).value.trim();
  const deadline = $("input[name=deadline]", form).value;
  const note = $("textarea[name=note]", form).value.trim();
  if (!outcome) return showError(card, "outcome", t("need_outcome"));
  if (outcome === "fail" && !requirement) return showError(card, "requirement", t("need_requirement"));
  if (outcome === "fail" && !deadline) return showError(card, "deadline", t("need_deadline"));
  const photos = drafts.get(`${inspectionId}:${pointId}`) || [];
  const fields = [["checklist_item_id", String(pointId)], ["outcome", outcome], ["note", note]];
  if (outcome === "fail") fields.push(["requirement", requirement], ["deadline", deadline]);
  for (const photo of photos) fields.push(["photos", photo.file]);
  const entry = {
    key: newKey(), kind: "finding", inspectionId, subject: `${pointId}:${here.agencyId}`, outcome,
    path: `${API}/${inspectionId}/findings`, fields,
  };
  $(".save", form).disabled = true;
  delete form.dataset.dirty;
  delete card.dataset.editing;
  drafts.delete(`${inspectionId}:${pointId}`);
  for (const photo of photos) URL.revokeObjectURL(photo.url);
  document.activeElement?.blur();
  await outbox.add(entry);
  $(".save", form).disabled = false;
  renderChecklist(inspections.get(inspectionId));
}

function findingSettled(entry, result, error) {
  const d = inspections.get(entry.inspectionId);
  if (!d) return;
  const [pointId] = entry.subject.split(":");
  const card = document.getElementById(`point-${pointId}`);
  if (result) {
    d.findings = [...d.findings.filter((f) => f.id !== result.id), result];
  }
  if (viewing?.id === entry.inspectionId) {
    renderChecklist(d);
    if (error && card) showProblem(card, error);
    if (result) refresh();
  }
}

// -- re-inspection --------------------------------------------------------------------------

function renderReinspection(d) {
  const box = $("#reinspection");
  const takingPart = d.agencies.some((a) => a.state === "accepted" && myAgencyIds().has(a.agency_id));
  const deadlinePassed = d.rectification_deadline && d.rectification_deadline < todayIs();
  const due = d.state === "reinspection_due" || (d.state === "notice_served" && deadlinePassed);
  box.hidden = !(takingPart && due);
  if (box.hidden) return;
  $("#reinspection-hint").textContent = [
    t("reinspection_hint"), d.notice?.proof_note ? t("proof", { note: d.notice.proof_note }) : "",
  ].filter(Boolean).join(" ");
  const list = $("#reinspection-list");
  const built = `${d.id}:${ui.lang}`;
  if (list.dataset.built === built && list.children.length) return;
  list.dataset.built = built;
  const failed = d.findings.filter((f) => f.outcome === "fail");
  const team = document.createElement("li");
  team.className = "team";
  const legend = document.createElement("p");
  legend.textContent = t("reinspect_officers");
  team.append(legend);
  const mine = myOfficerIds();
  for (const a of d.agencies.filter((x) => x.state === "accepted")) {
    for (const o of a.officers) {
      const label = document.createElement("label");
      label.className = "officer";
      label.dataset.officerId = o.officer_id;
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "reinspect_officer";
      input.value = o.officer_id;
      input.checked = myAgencyIds().has(a.agency_id) && (mine.has(o.officer_id) || a.officers.length <= 2);
      const text = document.createElement("div");
      const name = document.createElement("span");
      name.textContent = o.name;
      const small = document.createElement("small");
      small.textContent = `${a.name} · ${o.certificate_number}`;
      text.append(name, small);
      label.append(input, text);
      team.append(label);
    }
  }
  const teamError = document.createElement("p");
  teamError.className = "error";
  teamError.setAttribute("role", "alert");
  teamError.dataset.errorFor = "officer_ids";
  teamError.hidden = true;
  team.append(teamError);
  list.replaceChildren(team, ...failed.map((f) => {
    const li = document.createElement("li");
    li.dataset.findingId = f.id;
    const point = d.checklist.find((p) => p.checklist_item_ids.includes(f.checklist_item_id));
    const text = document.createElement("p");
    const strong = document.createElement("strong");
    strong.textContent = point ? point.text : f.item_code;
    text.append(strong);
    const req = document.createElement("p");
    req.className = "small muted";
    req.textContent = `${f.agency_name}：${f.requirement}（${formatDay(f.deadline)}）`;
    const choices = document.createElement("div");
    choices.className = "yes-no";
    for (const [value, key] of [["true", "rectified_yes"], ["false", "rectified_no"]]) {
      const label = document.createElement("label");
      label.className = `choice ${value === "true" ? "pass" : "fail"}`;
      const input = document.createElement("input");
      input.type = "radio";
      input.name = `rectified-${f.id}`;
      input.value = value;
      const span = document.createElement("span");
      span.textContent = t(key);
      label.append(input, span);
      choices.append(label);
    }
    li.append(text, req, choices);
    return li;
  }));
}

async function reinspect() {
  const d = inspections.get(viewing.id);
  const box = $("#reinspection");
  hideErrors(box);
  const error = $("#reinspection-error");
  say(error, "");
  const officerIds = $$("input[name=reinspect_officer]:checked", box).map((i) => Number(i.value));
  const failed = d.findings.filter((f) => f.outcome === "fail");
  const results = failed.map((f) => {
    const chosen = $(`input[name="rectified-${f.id}"]:checked`, box);
    if (!chosen) return null;
    return { finding_id: f.id, rectified: chosen.value === "true", note: $("#reinspection-note").value.trim() };
  });
  if (officerIds.length < 2) return showError(box, "officer_ids", t("need_two"));
  if (results.some((r) => r === null)) return say(error, t("need_results"));
  try {
    const updated = await api(`${API}/${d.id}/reinspection`, { method: "POST", json: { officer_ids: officerIds, results } });
    inspections.set(updated.id, updated);
    renderInspection(updated);
    say($("#inspection-notice"), t("reinspected_msg"));
    window.scrollTo(0, 0);
  } catch (exc) {
    if (exc instanceof ApiError && (exc.problem.errors || []).some((e) => e.path.startsWith("officer_ids"))) {
      showError(box, "officer_ids", exc.problem.errors.map((e) => e.message).join("；"));
    } else {
      say(error, exc instanceof ApiError ? t("failed", { reason: exc.message }) : t("offline_action"));
    }
  }
}

// -- signatures -----------------------------------------------------------------------------

// Who signs the on-site record: the party's representative, then every officer on site.
function signersOf(d) {
  const b = businesses.get(d.business_id);
  const people = [{ key: "party", role: "party", title: t("signer_party"), name: b?.representative || "", editable: true }];
  const mine = myOfficerIds();
  const officers = d.agencies.filter((a) => a.state === "accepted").flatMap((a) => a.officers);
  officers.sort((x, y) => Number(mine.has(y.officer_id)) - Number(mine.has(x.officer_id)));
  for (const o of officers) {
    people.push({
      key: `officer-${o.officer_id}`, role: "officer", officerId: o.officer_id, name: o.name,
      title: t("signer_officer", { name: o.name }), editable: false,
    });
  }
  return people;
}

function renderSigners(d) {
  const box = $("#signers");
  const wanted = signersOf(d);
  for (const signer of wanted) {
    let card = box.querySelector(`[data-signer="${signer.key}"]`);
    if (!card) {
      card = signerCard(d, signer);
      box.append(card);
    }
    $(".signer-title", card).textContent = signer.title;
    $(".signer-name span", card).textContent = t("signer_name");
    $(".clear", card).textContent = t("clear");
    $(".save", card).textContent = t("save_signature");
    $("canvas", card).setAttribute("aria-label", t("signature_pad", { who: signer.title }));
    const waiting = waitingFor(d.id, "signature", signer.key);
    const note = $(".waiting", card);
    note.hidden = !waiting;
    note.textContent = t("queued");
  }
  loadSignatures(d).catch(() => {});
}

function signerCard(d, signer) {
  const card = $("#signer-card").content.firstElementChild.cloneNode(true);
  card.dataset.signer = signer.key;
  const input = $(".signer-name input", card);
  input.id = `signer-${signer.key}`;
  input.value = signer.name;
  input.readOnly = !signer.editable;
  $(".signer-name", card).hidden = !signer.editable; // an officer's name is in the title
  const canvas = $("canvas", card);
  const pad = new SignaturePad(canvas, { onChange: () => say($(".error", card), "") });
  pads.set(signer.key, pad);
  $(".clear", card).addEventListener("click", () => pad.clear());
  $(".save", card).addEventListener("click", () => saveSignature(d.id, signer, card).catch(() => {}));
  return card;
}

// A signature goes through the outbox as a PNG under its own idempotency key.
async function saveSignature(inspectionId, signer, card) {
  const pad = pads.get(signer.key);
  const name = $(".signer-name input", card).value.trim();
  const error = $(".error", card);
  if (!name) return say(error, t("need_signer"));
  if (pad.empty) return say(error, t("need_signature"));
  const png = new File([await pad.toBlob()], `signature-${signer.key}.png`, { type: "image/png" });
  const fields = [["role", signer.role], ["name", name], ["file", png]];
  if (signer.officerId) fields.push(["officer_id", String(signer.officerId)]);
  const entry = {
    key: newKey(), kind: "signature", inspectionId, subject: signer.key,
    path: `${API}/${inspectionId}/signatures`, fields,
  };
  say(error, "");
  showSigned(card, URL.createObjectURL(png), null);
  await outbox.add(entry);
  const d = inspections.get(inspectionId);
  if (d && viewing?.id === inspectionId) renderSigners(d);
}

function showSigned(card, url, signedAt) {
  card.classList.add("signed");
  const img = $("img.signed", card);
  img.src = url;
  img.hidden = false;
  img.alt = $(".signer-title", card).textContent;
  const at = $(".signed-at", card);
  at.hidden = !signedAt;
  at.textContent = signedAt ? t("signed_at", { time: formatInstant(signedAt) }) : "";
}

function signatureSettled(entry, result, error) {
  const card = document.querySelector(`[data-signer="${entry.subject}"]`);
  if (!card || viewing?.id !== entry.inspectionId) return;
  $(".waiting", card).hidden = true;
  if (error) {
    card.classList.remove("signed"); // the strokes are still on the pad: sign again or retry
    $("img.signed", card).hidden = true;
    say($(".error", card), t("not_saved", { reason: error.message }));
    return;
  }
  if (result) showSigned(card, $("img.signed", card).src, result.signed_at);
}

// The signatures stored already, shown in place of their pads.
async function loadSignatures(d) {
  const stored = await api(`${API}/${d.id}/signatures`);
  for (const s of stored) {
    const key = s.role === "party" ? "party" : `officer-${s.officer_id}`;
    const card = document.querySelector(`[data-signer="${key}"]`);
    if (!card) continue;
    if (s.role === "party") $(".signer-name input", card).value = s.name;
    showSigned(card, await blobUrl(s.url), s.signed_at);
  }
}

// -- documents ------------------------------------------------------------------------------

// The inspection's documents: those of my agencies the documents API lists, and the combined
// notice and every agency's on-site record, which all on the visit may open whichever agency
// issued them.
async function loadDocuments(d) {
  const list = $("#documents");
  const error = $("#documents-error");
  say(error, "");
  $("#documents-loading").hidden = false;
  try {
    const issued = await api(`/enforcement/documents?subject_kind=inspection&subject_id=${d.id}`);
    const docs = issued.map((x) => ({ ...x, url: x.pdf_url }));
    const notice = d.notice;
    if (notice?.document_id && !docs.some((x) => x.id === notice.document_id)) {
      docs.unshift({
        id: notice.document_id, title: NOTICE_TITLE, number: notice.number, pages: null,
        issued_at: notice.issued_at, url: `/api/v1${API}/${d.id}/notice.pdf`,
      });
    }
    // Every agency's on-site record, readable by all on the visit whichever issued it.
    for (const record of d.records || []) {
      const listed = docs.find((x) => x.id === record.document_id);
      if (listed) listed.url = record.url;
      else docs.push({ id: record.document_id, title: record.title, number: record.number,
        pages: record.pages, issued_at: record.issued_at, url: record.url });
    }
    $("#documents-empty").hidden = docs.length > 0;
    list.replaceChildren(...docs.map((doc) => documentRow(doc)));
  } catch (exc) {
    say(error, exc instanceof ApiError ? t("failed", { reason: exc.message }) : t("offline_action"));
  } finally {
    $("#documents-loading").hidden = true;
  }
}

function documentRow(doc) {
  const li = document.createElement("li");
  li.dataset.documentId = doc.id;
  const icon = document.createElement("span");
  icon.className = "doc-icon";
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = "PDF";
  const text = document.createElement("div");
  text.className = "doc-text";
  const title = document.createElement("strong");
  title.textContent = doc.title;
  const numberLine = document.createElement("span");
  numberLine.textContent = doc.number;
  const meta = document.createElement("span");
  const pages = doc.pages ? t("pages", { n: number(doc.pages) }) : "";
  meta.textContent = [t("issued", { date: formatDay(dayOf(doc.issued_at)) }), pages].filter(Boolean).join(" · ");
  text.append(title, numberLine, meta);
  const open = document.createElement("button");
  open.type = "button";
  open.className = "secondary";
  open.textContent = t("open_pdf");
  open.setAttribute("aria-label", `${t("open_pdf")} ${doc.title} ${doc.number}`);
  open.addEventListener("click", () => openPdf(doc, open).catch(() => {}));
  li.append(icon, text, open);
  return li;
}

// The PDF needs the bearer token, which a plain link cannot send: fetch it, then open it from
// a local URL in the phone's PDF viewer (a new tab), or save it where there is none.
async function openPdf(doc, button) {
  const error = $("#documents-error");
  say(error, "");
  button.disabled = true;
  button.textContent = t("opening");
  const tab = window.open("", "_blank");
  try {
    const url = await blobUrl(doc.url);
    if (tab) {
      tab.location.href = url;
    } else {
      const a = document.createElement("a");
      a.href = url;
      a.download = `${doc.title}（${doc.number}）.pdf`;
      a.click();
    }
  } catch (exc) {
    tab?.close();
    say(error, exc instanceof ApiError ? t("failed", { reason: exc.message || exc.status }) : t("offline_action"));
  } finally {
    button.disabled = false;
    button.textContent = t("open_pdf");
  }
}

// -- the page's words -----------------------------------------------------------------------

function applyText() {
  for (const el of $$("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  $("#lang").setAttribute("aria-label", t("lang_name"));
  setOnline(Boolean($("#status").dataset.online));
  showOutbox().catch(() => {});
  if (!me) return;
  showWho();
  route().catch(() => {});
}

// -- wiring ---------------------------------------------------------------------------------

$("#login").addEventListener("submit", logInSubmitted);
$("#logout").addEventListener("click", showLogin);
$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
$("#back").addEventListener("click", () => { location.hash = "#/"; });
$("#start").addEventListener("click", () => act("start", undefined, "started_msg"));
$("#finish").addEventListener("click", () => act("finish", undefined, "finished_msg"));
$("#issue").addEventListener("click", () => act("notice", {}, "issued_msg"));
$("#reinspect").addEventListener("click", () => reinspect().catch(() => {}));
for (const button of $$(".tabs button")) button.addEventListener("click", () => switchPane(button.dataset.pane));
// Arrow keys move between the tabs (the WAI-ARIA tabs pattern).
$(".tabs").addEventListener("keydown", (e) => {
  if (!["ArrowLeft", "ArrowRight"].includes(e.key)) return;
  const tabs = $$(".tabs button");
  const i = tabs.indexOf(document.activeElement);
  const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
  next.focus();
  switchPane(next.dataset.pane);
});
window.addEventListener("hashchange", () => route().catch(() => {}));
// Back online: send what waits at once, and read the inspection again.
window.addEventListener("online", () => { setOnline(true); outbox.flush(); refresh(); });
window.addEventListener("offline", () => setOnline(false));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible" || !me) return;
  outbox.flush();
  refresh();
});
setInterval(() => { if (me) outbox.flush(); }, 20000);
applyText();
if (token.get()) begin();
else showLogin();
