// The public entrance of law enforcement (执法公开), phone first: anyone looks up published
// penalty decisions and inspection results; a business signs in with its credit code and a
// code sent to its registered phone, sees its notices, deadlines and decisions, downloads the
// notice and uploads proof of rectification; anyone complains about how enforcement was done
// and follows the answer by the ticket. Everything goes through /api/v1/public.

import { ApiError, api, newKey, shrinkPhoto, store, words } from "./common.js";

const TEXT = {
  zh: {
    title: "执法公开", lang: "English", sections: "栏目", tab_lookup: "公示查询", tab_business: "企业办事",
    tab_complain: "执法投诉",
    lookup_intro: "查询已公示的行政处罚决定和“双随机、一公开”抽查结果，无需登录。",
    what_to_find: "查询内容", kind_decisions: "处罚决定", kind_plans: "抽查结果",
    q: "企业名称或统一社会信用代码", q_hint: "可只输入部分名称，如“网咖”", agency: "执法机关",
    any_agency: "全部执法机关", since: "起始日期", until: "截止日期", search: "查询", more: "加载更多",
    searching: "查询中…", found: "共 {n} 条", none_found: "没有符合条件的公示信息，可减少条件后再试",
    bad_dates: "起始日期不能晚于截止日期",
    number: "文书号", case_number: "案号", party: "当事人", credit: "信用代码", case_title: "案由",
    facts: "违法事实", basis: "处罚依据", penalty: "处罚内容", decided_on: "决定日期", published_on: "公示日期",
    plan_period: "检查时间", plan_agency: "实施机关", plan_region: "抽查范围", plan_items: "检查事项",
    draw: "随机抽取：从 {candidates} 家中抽取 {drawn} 家", draw_fixed: "检查对象：{drawn} 家",
    seed: "随机种子", digest: "名录摘要", results: "检查结果", no_results: "尚无检查结果",
    inspected_on: "检查日期",
    signin_title: "企业登录", signin_intro: "输入统一社会信用代码，验证码将发送到登记的联系手机。",
    credit_code: "统一社会信用代码", send_code: "获取验证码", resend_in: "{n} 秒后可重发",
    code: "短信验证码", code_sent_to: "验证码已发送至 {phone}，{n} 分钟内有效", sign_in: "登录",
    signing_in: "登录中…", sign_out: "退出", need_credit_code: "请输入 18 位统一社会信用代码",
    need_code: "请输入短信收到的 6 位验证码", expired: "登录已过期，请重新获取验证码登录",
    loading: "加载中…", notices: "整改通知", decisions_mine: "处罚决定", inspections: "检查记录",
    no_notices: "没有整改通知。", no_decisions: "没有处罚决定。", no_inspections: "没有检查记录。",
    deadline: "整改期限", days_left: "剩余 {n} 天", due_today: "今天到期", overdue_by: "已逾期 {n} 天",
    issued: "下发日期", served: "送达日期", finding: "问题", requirement: "整改要求", line_deadline: "期限",
    download: "下载通知书（PDF）", download_decision: "下载决定书（PDF）", opening: "正在打开…",
    proof_title: "上传整改材料", proof_hint: "拍摄整改后的现场照片（最多 3 张），并说明整改情况。",
    proof_note: "整改说明", proof_send: "提交整改材料", proof_sending: "提交中…",
    proof_done: "已于 {at} 提交整改材料（{n} 张照片），等待复查。", need_proof: "请至少上传一张照片并填写整改说明",
    proof_closed: "此通知已不能再提交整改材料。",
    amount: "罚款金额", payment_due: "缴款期限", late_fee: "加处罚款", late_days: "逾期 {n} 天",
    amount_due: "应缴合计", paid: "已缴清", unpaid: "未缴", not_served: "决定尚未送达",
    state: "状态", scheduled: "检查时间", place: "地点", with_agencies: "参加机关",
    complain_title: "投诉执法行为", complain_intro: "对执法人员的执法行为有意见，可在此投诉。投诉由执法监督人员核查办理。",
    what: "发生了什么", which_agency: "执法机关", unknown_agency: "不清楚", officer_name: "执法人员姓名（可选）",
    certificate: "执法证号（可选）", when: "发生时间", where: "发生地点",
    photos: "现场照片（可选，最多 3 张）", add_photo: "拍照或选择照片", remove_photo: "删除第 {n} 张照片",
    too_many: "最多 3 张照片", contact: "联系方式（可选）",
    contact_hint: "留下手机号可在答复时收到短信；手机号需验证，不会公开。", name: "称呼", phone: "手机号",
    bad_phone: "请输入 11 位手机号", submit: "提交投诉", sending: "提交中…",
    need_what: "请说明发生了什么（至少 5 个字）", need_when: "请选择发生时间", need_where: "请填写发生地点",
    complained: "投诉已提交", your_ticket: "投诉编号（请保存，用于查询答复）", again: "再投诉一件",
    follow_title: "查询投诉答复", ticket: "投诉编号", look_up: "查询", submitted_at: "提交时间",
    answer: "答复", not_found: "没有找到这个编号，请核对后重试",
    offline: "网络不通，请稍后再试；重试不会重复提交", failed: "未能完成：{reason}",
    too_soon: "验证码已发送，请稍后再获取", bad_code: "验证码错误或已过期，请重新获取",
    bad_credit_code: "统一社会信用代码有误",
    field: { what: "发生了什么", agency_id: "执法机关", officer_name: "执法人员姓名",
      certificate_number: "执法证号", happened_at: "发生时间", place: "发生地点", name: "称呼",
      phone: "手机号", code: "验证码", photos: "照片", note: "整改说明", credit_code: "统一社会信用代码" },
  },
  en: {
    title: "Law enforcement", lang: "中文", sections: "Sections", tab_lookup: "Look up",
    tab_business: "My business", tab_complain: "Complain",
    lookup_intro: "Published penalty decisions and random inspection results; no account needed.",
    what_to_find: "What to find", kind_decisions: "Penalty decisions", kind_plans: "Inspection results",
    q: "Business name or credit code", q_hint: "Part of the name will do", agency: "Agency",
    any_agency: "Any agency", since: "From", until: "Until", search: "Search", more: "Show more",
    searching: "Searching…", found: "{n} found", none_found: "Nothing published matches; try fewer conditions",
    bad_dates: "The start date is after the end date",
    number: "Number", case_number: "Case", party: "Party", credit: "Credit code", case_title: "Case",
    facts: "Facts", basis: "Legal basis", penalty: "Penalty", decided_on: "Decided", published_on: "Published",
    plan_period: "Period", plan_agency: "Agency", plan_region: "Area", plan_items: "Items checked",
    draw: "Drawn at random: {drawn} of {candidates} businesses", draw_fixed: "Businesses: {drawn}",
    seed: "Seed", digest: "Directory digest", results: "Results", no_results: "No results yet",
    inspected_on: "Inspected",
    signin_title: "Sign in", signin_intro: "Enter the unified social credit code; a code goes to the registered mobile phone.",
    credit_code: "Unified social credit code", send_code: "Send code", resend_in: "Resend in {n} s",
    code: "SMS code", code_sent_to: "Code sent to {phone}; valid for {n} minutes", sign_in: "Sign in",
    signing_in: "Signing in…", sign_out: "Sign out", need_credit_code: "Enter the 18-character credit code",
    need_code: "Enter the 6-digit code from the SMS", expired: "Signed out: ask for a new code to sign in again",
    loading: "Loading…", notices: "Rectification notices", decisions_mine: "Penalty decisions",
    inspections: "Inspections", no_notices: "No rectification notices.", no_decisions: "No penalty decisions.",
    no_inspections: "No inspections.",
    deadline: "Deadline", days_left: "{n} days left", due_today: "Due today", overdue_by: "{n} days overdue",
    issued: "Issued", served: "Served", finding: "Finding", requirement: "Required", line_deadline: "By",
    download: "Download the notice (PDF)", download_decision: "Download the decision (PDF)", opening: "Opening…",
    proof_title: "Upload proof of rectification", proof_hint: "Photos of the corrected site (up to 3) and a note.",
    proof_note: "What was corrected", proof_send: "Send proof", proof_sending: "Sending…",
    proof_done: "Proof sent on {at} ({n} photos); waiting for re-inspection.", need_proof: "Add at least one photo and a note",
    proof_closed: "Proof can no longer be sent for this notice.",
    amount: "Fine", payment_due: "Pay by", late_fee: "Late fee", late_days: "{n} days late",
    amount_due: "Total due", paid: "Paid", unpaid: "Unpaid", not_served: "Not served yet",
    state: "State", scheduled: "When", place: "Where", with_agencies: "Agencies",
    complain_title: "Complain about enforcement", complain_intro: "Tell the enforcement supervisors about how officers acted.",
    what: "What happened", which_agency: "Agency", unknown_agency: "Not sure", officer_name: "Officer's name (optional)",
    certificate: "Certificate number (optional)", when: "When", where: "Where",
    photos: "Photos (optional, up to 3)", add_photo: "Take or choose a photo", remove_photo: "Remove photo {n}",
    too_many: "Up to 3 photos", contact: "Contact (optional)",
    contact_hint: "Leave a mobile number to get a text when it is answered; it is confirmed by SMS and never shown.",
    name: "Name", phone: "Mobile number", bad_phone: "Enter an 11-digit mobile number", submit: "Send",
    sending: "Sending…", need_what: "Say what happened (5 characters or more)", need_when: "Choose when",
    need_where: "Say where", complained: "Your complaint has been sent", your_ticket: "Your ticket (keep it to follow the answer)",
    again: "Complain about something else", follow_title: "Follow a complaint", ticket: "Ticket", look_up: "Look up",
    submitted_at: "Sent", answer: "Answer", not_found: "No complaint has this ticket; check it",
    offline: "No connection; try again, it will not be sent twice", failed: "Not done: {reason}",
    too_soon: "A code was just sent; ask again later", bad_code: "Wrong or expired code; ask for a new one",
    bad_credit_code: "Check the credit code",
    field: { what: "What happened", agency_id: "Agency", officer_name: "Officer's name",
      certificate_number: "Certificate number", happened_at: "When", place: "Where", name: "Name",
      phone: "Mobile number", code: "Code", photos: "Photo", note: "Note", credit_code: "Credit code" },
  },
};

const ui = words(TEXT);
const $ = (selector, root = document) => root.querySelector(selector);
const t = (key, values = {}) => String(ui.t(key)).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const HAN = /[\u4e00-\u9fff]/;
const PHONE = /^1[3-9]\d{9}$/;
const CREDIT = /^[0-9A-Z]{18}$/;
const MAX_PHOTOS = 3;
const PAGE = 20;
const BUSINESS_TOKEN = "cityops.business_token"; // per tab: a shared phone forgets it on close

// -- small helpers ----------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// Dates as Chinese writes them (2026年11月24日), or day/month/year in English.
function day(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return ui.lang === "zh" ? `${y}年${m}月${d}日` : new Date(Date.UTC(y, m - 1, d))
    .toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
}

// A moment in the centre's zone: 2026年11月22日 14:09, or 22 Nov 2026, 14:09.
function moment(iso) {
  if (!iso) return "";
  const zone = document.documentElement.dataset.timezone || "Asia/Shanghai";
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${day(`${parts.year}-${parts.month}-${parts.day}`)} ${parts.hour}:${parts.minute}`;
}

function money(amount) {
  const value = Number(amount);
  const text = value.toLocaleString("zh-CN", { minimumFractionDigits: Number.isInteger(value) ? 0 : 2, maximumFractionDigits: 2 });
  return ui.lang === "zh" ? `${text} 元` : `CNY ${text}`;
}

function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [label, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    dl.append(el("dt", { text: t(label) }), el("dd", {}, typeof value === "string" ? document.createTextNode(value) : value));
  }
  return dl;
}

// Days left as words and a colour: green with time to spare, amber in the last three days,
// red once past.
function daysLeft(n) {
  if (n === null || n === undefined) return null;
  const text = n > 0 ? t("days_left", { n }) : n === 0 ? t("due_today") : t("overdue_by", { n: -n });
  const tone = n < 0 ? "red" : n <= 3 ? "amber" : "green";
  return el("span", { class: `days ${tone}`, text });
}

// -- errors next to their fields ----------------------------------------------------------------

function showError(field, message, root = document) {
  const box = root.querySelector(`[data-error-for="${field}"]`);
  if (!box) return null;
  box.textContent = message;
  box.hidden = false;
  return box;
}

function clearErrors(root) {
  for (const box of root.querySelectorAll("[data-error-for]")) box.hidden = true;
}

// The API words its reasons for developers, in English: the page's own name of the field
// first, the reason after it.
function explain(path, message, status) {
  if (status === 429) return t("too_soon");
  if (path === "code" && /wrong|expired/.test(message)) return t("bad_code");
  if (HAN.test(message)) return message;
  const name = ui.t("field")[path.split(".")[0]];
  if (!name) return message;
  return ui.lang === "zh" ? `${name}有误（${message}）` : `${name}: ${message}`;
}

// A problem's `errors[].path` names the field; `map` renames a path to the page's box (two
// forms both have a code), the rest goes to `fallback`.
function showProblem(exc, root, fallback, map = {}) {
  if (!(exc instanceof ApiError)) return showError(fallback, t("offline"), root);
  const errors = exc.problem.errors || [];
  let first = null;
  for (const e of errors) {
    const path = String(e.path || "");
    const head = path.split(".")[0];
    const target = map[head] || head;
    const box = showError(target, explain(path, e.message || "", exc.status), root)
      || showError(fallback, explain(path, e.message || "", exc.status), root);
    first ??= box;
  }
  if (!errors.length) first = showError(fallback, t("failed", { reason: explain("", exc.message, exc.status) }), root);
  first?.scrollIntoView({ block: "center" });
  return first;
}

// -- sections ----------------------------------------------------------------------------------

const SECTIONS = ["lookup", "business", "complain"];

function showSection() {
  const wanted = location.hash.slice(1);
  const current = SECTIONS.includes(wanted) ? wanted : "lookup";
  for (const name of SECTIONS) {
    $(`#${name}`).hidden = name !== current;
    const tab = $(`#tab-${name}`);
    tab.setAttribute("aria-selected", String(name === current));
    tab.tabIndex = name === current ? 0 : -1;
  }
  if (current === "business" && businessToken()) loadMine();
}

// Arrow keys move between the tabs, as a tab list does.
function tabKeys(event) {
  const index = SECTIONS.findIndex((name) => `tab-${name}` === event.target.id);
  if (index < 0 || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
  const next = SECTIONS[(index + (event.key === "ArrowRight" ? 1 : SECTIONS.length - 1)) % SECTIONS.length];
  location.hash = next;
  $(`#tab-${next}`).focus();
}

function applyText() {
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("#lang").textContent = t("lang");
  document.querySelector(".tabs").setAttribute("aria-label", t("sections"));
  renderResults();
  if (mine) renderMine(mine);
  renderPhotos();
  if (followed) renderFollowed(followed);
}

// -- agencies ----------------------------------------------------------------------------------

let agencies = [];

async function loadAgencies() {
  agencies = await api("/public/enforcement/agencies");
  for (const select of [$("#agency"), $("#c-agency")]) {
    const first = select.options[0];
    select.replaceChildren(first, ...agencies.map((a) => el("option", { value: a.id, text: a.name })));
  }
}

// -- look up what is published ----------------------------------------------------------------

let lookup = { kind: "decisions", items: [], total: 0, params: null };

function searchParams(form) {
  const params = new URLSearchParams();
  const q = form.elements.q.value.trim();
  if (q) params.set("q", q);
  for (const name of ["agency_id", "since", "until"]) {
    const value = form.elements[name].value;
    if (value) params.set(name, value);
  }
  return params;
}

async function search(event, append = false) {
  event?.preventDefault();
  const form = $("#search");
  clearErrors(form);
  if (!append) {
    const { since, until } = form.elements;
    if (since.value && until.value && since.value > until.value) return showError("lookup", t("bad_dates"), form);
    lookup = { kind: form.elements.kind.value, items: [], total: 0, params: searchParams(form) };
  }
  const params = new URLSearchParams(lookup.params);
  params.set("limit", PAGE);
  params.set("offset", lookup.items.length);
  $("#results").setAttribute("aria-busy", "true");
  $("#found").textContent = t("searching");
  try {
    const page = await api(`/public/enforcement/${lookup.kind}?${params}`);
    lookup.items.push(...page.items);
    lookup.total = page.total;
  } catch (exc) {
    $("#found").textContent = "";
    showProblem(exc, form, "lookup", { q: "lookup", agency_id: "lookup", since: "lookup", until: "lookup", query: "lookup" });
  } finally {
    $("#results").setAttribute("aria-busy", "false");
  }
  renderResults();
}

function renderResults() {
  if (!lookup.params) return;
  $("#found").textContent = lookup.total ? t("found", { n: lookup.total.toLocaleString() }) : t("none_found");
  const cards = lookup.items.map((item) => (lookup.kind === "plans" ? planCard(item) : decisionCard(item)));
  $("#results").replaceChildren(...cards);
  $("#more").hidden = lookup.items.length >= lookup.total;
}

function decisionCard(d) {
  return el("article", { class: "card result decision" },
    el("h3", { text: d.party_name }),
    el("p", { class: "muted number", text: d.number }),
    facts([
      ["credit", d.party_identifier], ["plan_agency", d.agency_name], ["case_title", d.title],
      ["facts", d.facts], ["basis", d.basis.join("；")], ["penalty", d.penalty],
      ["decided_on", day(d.decided_on)], ["published_on", day(d.published_on)],
    ]));
}

function planCard(p) {
  const draw = p.candidates
    ? t("draw", { candidates: p.candidates.toLocaleString(), drawn: p.drawn.toLocaleString() })
    : t("draw_fixed", { drawn: p.drawn.toLocaleString() });
  const results = p.results.length
    ? el("ul", { class: "plain-list outcomes" }, ...p.results.map((r) => el("li", {},
      el("span", { class: "who" }, el("strong", { text: r.business_name }),
        r.credit_code ? el("small", { class: "muted", text: r.credit_code }) : null),
      el("span", { class: `badge result-${r.result}`, text: r.result_name }))))
    : el("p", { class: "muted", text: t("no_results") });
  return el("article", { class: "card result plan" },
    el("h3", { text: p.title }),
    el("p", { class: "muted number", text: [p.kind_name, p.number].filter(Boolean).join(" · ") }),
    el("p", { class: "draw", text: draw }),
    facts([
      ["plan_agency", p.agency_name], ["plan_region", p.region_name],
      ["plan_period", `${day(p.planned_from)} — ${day(p.planned_until)}`],
      ["plan_items", p.items.join("、")], ["seed", p.seed === null ? null : String(p.seed)],
      ["digest", p.candidates_digest ? el("code", { class: "digest", text: p.candidates_digest }) : null],
    ]),
    el("h4", { text: t("results") }), results);
}

// -- the business signs in ------------------------------------------------------------------------

let mine = null; // the business's own overview, as the API gave it
let countdowns = {};

function businessToken() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(BUSINESS_TOKEN) || "null");
    if (saved && Date.parse(saved.expires_at) > Date.now()) return saved.token;
  } catch {
    // a damaged entry is as good as none
  }
  window.sessionStorage.removeItem(BUSINESS_TOKEN);
  return null;
}

function business(path, options = {}) {
  const headers = { ...(options.headers || {}), "X-Business-Token": businessToken() || "" };
  return api(`/public/enforcement/business${path}`, { ...options, headers });
}

function startCountdown(button, seconds, label = "send_code", ready = () => true) {
  clearInterval(countdowns[button.id]);
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      clearInterval(countdowns[button.id]);
      delete countdowns[button.id];
      button.textContent = t(label);
      button.disabled = !ready();
      return;
    }
    button.disabled = true;
    button.textContent = t("resend_in", { n: left });
    left -= 1;
  };
  tick();
  countdowns[button.id] = setInterval(tick, 1000);
}

// Asked without `api` where a refusal for asking too soon says in its Retry-After header how
// long the button has to wait.
async function post(path, body) {
  const response = await fetch(`/api/v1${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return answer;
  const exc = new ApiError(response.status, answer);
  exc.retryAfter = Number(response.headers.get("Retry-After")) || Number(answer.retry_after) || 60;
  throw exc;
}

function creditCode() {
  return $("#credit-code").value.trim().toUpperCase();
}

async function sendBusinessCode() {
  const form = $("#signin");
  clearErrors(form);
  const code = creditCode();
  if (!CREDIT.test(code)) return showError("credit_code", t("need_credit_code"), form);
  const button = $("#biz-send");
  button.disabled = true;
  try {
    const sent = await post("/public/enforcement/business/codes", { credit_code: code });
    const note = $("#biz-sent");
    note.textContent = t("code_sent_to", { phone: sent.phone_hint, n: Math.round(sent.expires_in / 60) });
    note.hidden = false;
    startCountdown(button, sent.resend_after);
    $("#biz-code").focus();
  } catch (exc) {
    button.disabled = false;
    showProblem(exc, form, "credit_code", { code: "biz_code" });
    if (exc instanceof ApiError && exc.status === 429) startCountdown(button, exc.retryAfter);
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = $("#signin");
  clearErrors(form);
  const code = creditCode();
  const sms = $("#biz-code").value.trim();
  if (!CREDIT.test(code)) return showError("credit_code", t("need_credit_code"), form);
  if (!/^\d{6}$/.test(sms)) return showError("biz_code", t("need_code"), form);
  const button = $("#biz-signin");
  button.disabled = true;
  button.textContent = t("signing_in");
  try {
    const answer = await post("/public/enforcement/business/token", { credit_code: code, code: sms });
    window.sessionStorage.setItem(BUSINESS_TOKEN, JSON.stringify({ token: answer.access_token, expires_at: answer.expires_at }));
    form.reset();
    $("#biz-sent").hidden = true;
    await loadMine();
  } catch (exc) {
    showProblem(exc, form, "biz_code", { code: "biz_code" });
  } finally {
    button.disabled = false;
    button.textContent = t("sign_in");
  }
}

function signOut(message = null) {
  window.sessionStorage.removeItem(BUSINESS_TOKEN);
  mine = null;
  $("#mine").hidden = true;
  $("#signin").hidden = false;
  if (message) showError("credit_code", message, $("#signin"));
}

async function loadMine() {
  if (!businessToken()) return signOut(mine ? t("expired") : null);
  $("#signin").hidden = true;
  $("#mine").hidden = false;
  $("#mine-error").hidden = true;
  $("#mine-loading").hidden = mine !== null;
  try {
    mine = await business("/me");
    renderMine(mine);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) return signOut(t("expired"));
    $("#mine-error").textContent = exc instanceof ApiError ? t("failed", { reason: exc.message }) : t("offline");
    $("#mine-error").hidden = false;
  } finally {
    $("#mine-loading").hidden = true;
  }
}

function renderMine(data) {
  $("#biz-name").textContent = data.business.name;
  $("#biz-code-shown").textContent = `${data.business.credit_code} · ${data.business.type_name}`;
  $("#notices").replaceChildren(...data.notices.map(noticeCard));
  $("#no-notices").hidden = data.notices.length > 0;
  $("#my-decisions").replaceChildren(...data.decisions.map(myDecisionCard));
  $("#no-decisions").hidden = data.decisions.length > 0;
  $("#inspections").replaceChildren(...data.inspections.map(inspectionItem));
  $("#inspections").hidden = data.inspections.length === 0;
  $("#no-inspections").hidden = data.inspections.length > 0;
}

function pdfButton(url, label) {
  if (!url) return null;
  const button = el("button", { type: "button", class: "secondary wide pdf", text: t(label) });
  button.addEventListener("click", () => openPdf(url, button, label));
  return button;
}

// The PDF needs the business's token, which a link cannot send: fetched, then opened from a
// local object URL (a download where the browser does not show PDFs itself).
async function openPdf(url, button, label) {
  button.disabled = true;
  button.textContent = t("opening");
  try {
    const response = await fetch(url, { headers: { "X-Business-Token": businessToken() || "" } });
    if (response.status === 401) return signOut(t("expired"));
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), target: "_blank", rel: "noopener" });
    const name = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get("Content-Disposition") || "");
    if (name) link.download = decodeURIComponent(name[1]);
    document.body.append(link);
    link.click();
    link.remove();
  } catch (exc) {
    $("#mine-error").textContent = exc instanceof ApiError ? t("failed", { reason: exc.message }) : t("offline");
    $("#mine-error").hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = t(label);
  }
}

function noticeCard(n) {
  const lines = el("ol", { class: "lines" }, ...n.lines.map((line) => el("li", {},
    el("p", { class: "line-agency", text: line.agency }),
    facts([["finding", line.finding], ["requirement", line.requirement],
      ["line_deadline", el("span", {}, document.createTextNode(`${day(line.deadline)} `), daysLeft(line.days_left))],
      ["basis", line.basis.join("；")]]))));
  const card = el("article", { class: "card notice-card", "data-notice": n.id },
    el("h3", { text: n.title }),
    el("p", { class: "muted number", text: n.number }),
    el("p", { class: "deadline" }, el("span", { text: `${t("deadline")}：${day(n.deadline)}` }), daysLeft(n.days_left)),
    facts([["with_agencies", n.agencies.join("、")], ["issued", day(n.issued_on)], ["served", day(n.served_on)]]),
    lines, pdfButton(n.document_url, "download"));
  if (n.proof) {
    card.append(el("p", { class: "notice proof-done", role: "status",
      text: t("proof_done", { at: moment(n.proof.at), n: n.proof.photos }) }));
  }
  if (n.can_upload) card.append(proofForm(n));
  else if (!n.proof) card.append(el("p", { class: "muted", text: t("proof_closed") }));
  return card;
}

// Proof of rectification: photos and a note, sent with one idempotency key per form so that
// a retry after a lost answer is not a second upload.
const proofs = new Map(); // notice id → { photos, key }

function proofForm(n) {
  const state = proofs.get(n.id) || { photos: [], key: newKey() };
  proofs.set(n.id, state);
  const id = `proof-${n.id}`;
  const thumbs = el("div", { class: "thumbs" });
  const input = el("input", { id: `${id}-photo`, type: "file", accept: "image/*", capture: "environment", multiple: true });
  const add = el("label", { class: "add-photo" }, el("span", { text: t("add_photo") }), input);
  const note = el("textarea", { id: `${id}-note`, name: "note", rows: 3, maxlength: 2000, "aria-describedby": `${id}-note-error` });
  const send = el("button", { type: "submit", class: "primary wide", text: t("proof_send") });
  const form = el("form", { class: "proof", id, novalidate: true },
    el("h4", { text: t("proof_title") }), el("p", { class: "muted", text: t("proof_hint") }),
    thumbs, add, el("p", { class: "error", role: "alert", "data-error-for": "photos", hidden: true }),
    el("label", { for: `${id}-note` }, el("span", { text: t("proof_note") })), note,
    el("p", { id: `${id}-note-error`, class: "error", role: "alert", "data-error-for": "note", hidden: true }),
    el("p", { class: "error", role: "alert", "data-error-for": "proof", hidden: true }), send);
  const draw = () => {
    thumbs.replaceChildren(...state.photos.map((photo, i) => thumb(photo, i, () => {
      state.photos.splice(i, 1);
      draw();
    })));
    add.hidden = state.photos.length >= MAX_PHOTOS;
  };
  input.addEventListener("change", async () => {
    const files = [...input.files];
    input.value = "";
    clearErrors(form);
    if (files.length > MAX_PHOTOS - state.photos.length) showError("photos", t("too_many"), form);
    for (const file of files.slice(0, Math.max(0, MAX_PHOTOS - state.photos.length))) {
      const small = await shrinkPhoto(file);
      state.photos.push({ file: small, url: URL.createObjectURL(small) });
    }
    draw();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!state.photos.length || !note.value.trim()) return showError(state.photos.length ? "note" : "photos", t("need_proof"), form);
    const body = new FormData();
    body.set("note", note.value.trim());
    for (const photo of state.photos) body.append("photos", photo.file, photo.file.name);
    send.disabled = true;
    send.textContent = t("proof_sending");
    try {
      await business(`/notices/${n.id}/proof`, { method: "POST", body, headers: { "Idempotency-Key": state.key } });
      proofs.delete(n.id);
      await loadMine();
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 401) return signOut(t("expired"));
      showProblem(exc, form, "proof");
    } finally {
      send.disabled = false;
      send.textContent = t("proof_send");
    }
  });
  draw();
  return form;
}

function thumb(photo, i, remove) {
  const button = el("button", { type: "button", class: "remove", text: "×", "aria-label": t("remove_photo", { n: i + 1 }) });
  button.addEventListener("click", () => {
    URL.revokeObjectURL(photo.url);
    remove();
  });
  return el("figure", { class: "thumb" }, el("img", { src: photo.url, alt: `${i + 1}` }), button);
}

function myDecisionCard(d) {
  const status = d.paid ? el("span", { class: "badge result-compliant", text: t("paid") })
    : el("span", { class: "badge result-rectification", text: t("unpaid") });
  return el("article", { class: "card my-decision" },
    el("h3", {}, document.createTextNode(d.title), document.createTextNode(" "), d.fine ? status : null),
    el("p", { class: "muted number", text: d.number }),
    facts([
      ["plan_agency", d.agency_name], ["penalty", d.penalty],
      ["amount", d.fine ? money(d.fine) : null], ["decided_on", day(d.decided_on)],
      ["payment_due", d.payment_due ? el("span", {}, document.createTextNode(`${day(d.payment_due)} `), d.paid ? null : daysLeft(d.days_left)) : (d.fine ? t("not_served") : null)],
      ["late_fee", Number(d.late_fee) > 0 ? `${money(d.late_fee)}（${t("late_days", { n: d.late_days })}）` : null],
      ["amount_due", !d.paid && d.fine ? el("strong", { text: money(d.amount_due) }) : null],
    ]),
    pdfButton(d.document_url, "download_decision"));
}

function inspectionItem(i) {
  return el("li", {},
    el("p", {}, el("strong", { text: i.title }), document.createTextNode(" "),
      el("span", { class: `badge result-${i.result}`, text: i.result_name })),
    el("p", { class: "muted", text: [moment(i.started_at || i.scheduled_at), i.place].filter(Boolean).join(" · ") }),
    i.agencies.length ? el("p", { class: "muted", text: `${t("with_agencies")}：${i.agencies.join("、")}` }) : null);
}

// -- complaints ---------------------------------------------------------------------------------

let photos = [];
let complaintKey = newKey();
let followed = null;

function renderPhotos() {
  $("#c-thumbs").replaceChildren(...photos.map((photo, i) => thumb(photo, i, () => {
    photos.splice(i, 1);
    renderPhotos();
  })));
  $("#c-add-photo").hidden = photos.length >= MAX_PHOTOS;
}

async function complaintPhotos(event) {
  const input = event.target;
  const files = [...input.files];
  input.value = "";
  const form = $("#complaint");
  clearErrors(form);
  if (files.length > MAX_PHOTOS - photos.length) showError("photos", t("too_many"), form);
  for (const file of files.slice(0, Math.max(0, MAX_PHOTOS - photos.length))) {
    const small = await shrinkPhoto(file);
    photos.push({ file: small, url: URL.createObjectURL(small) });
  }
  renderPhotos();
}

function phoneChanged() {
  const phone = $("#c-phone").value.trim();
  $("#c-code-field").hidden = phone === "";
  if (!countdowns["c-send"]) $("#c-send").disabled = !PHONE.test(phone);
}

async function sendComplaintCode() {
  const form = $("#complaint");
  clearErrors(form);
  const phone = $("#c-phone").value.trim();
  const button = $("#c-send");
  button.disabled = true;
  try {
    const sent = await post("/public/phone-codes", { phone });
    const note = $("#c-sent");
    note.textContent = t("code_sent_to", { phone, n: Math.round(sent.expires_in / 60) });
    note.hidden = false;
    startCountdown(button, sent.resend_after, "send_code", () => PHONE.test($("#c-phone").value.trim()));
    form.elements.code.focus();
  } catch (exc) {
    button.disabled = false;
    showProblem(exc, form, "phone");
    if (exc instanceof ApiError && exc.status === 429) startCountdown(button, exc.retryAfter);
  }
}

// The time as the centre's zone has it: a datetime-local field has no zone of its own.
function withZone(local) {
  return `${local}:00+08:00`;
}

async function complain(event) {
  event.preventDefault();
  const form = $("#complaint");
  clearErrors(form);
  const problems = [];
  const value = (name) => form.elements[name].value.trim();
  if (value("what").length < 5) problems.push(["what", t("need_what")]);
  if (!value("happened_at")) problems.push(["happened_at", t("need_when")]);
  if (value("place").length < 2) problems.push(["place", t("need_where")]);
  if (value("phone") && !PHONE.test(value("phone"))) problems.push(["phone", t("bad_phone")]);
  if (value("phone") && !/^\d{6}$/.test(value("code"))) problems.push(["code", t("need_code")]);
  if (problems.length) {
    const boxes = problems.map(([field, message]) => showError(field, message, form));
    boxes[0].scrollIntoView({ block: "center" });
    return;
  }
  const body = new FormData();
  for (const name of ["what", "agency_id", "officer_name", "certificate_number", "place", "name", "phone", "code"]) {
    if (value(name)) body.set(name, value(name));
  }
  body.set("happened_at", withZone(value("happened_at")));
  for (const photo of photos) body.append("photos", photo.file, photo.file.name);
  const button = $("#c-submit");
  button.disabled = true;
  button.textContent = t("sending");
  try {
    const answer = await api("/public/enforcement/complaints", { method: "POST", body, headers: { "Idempotency-Key": complaintKey } });
    complained(answer);
  } catch (exc) {
    showProblem(exc, form, "complaint");
  } finally {
    button.disabled = false;
    button.textContent = t("submit");
  }
}

function complained(answer) {
  complaintKey = newKey();
  $("#complaint").hidden = true;
  $("#c-done").hidden = false;
  $("#c-notice").textContent = answer.notice;
  $("#c-ticket").textContent = answer.ticket;
  $("#follow-ticket").value = answer.ticket;
  store.setItem("cityops.complaint_ticket", answer.ticket);
  $("#c-done").scrollIntoView({ block: "start" });
}

function complainAgain() {
  $("#complaint").reset();
  for (const photo of photos) URL.revokeObjectURL(photo.url);
  photos = [];
  renderPhotos();
  $("#c-sent").hidden = true;
  clearErrors($("#complaint"));
  phoneChanged();
  $("#c-done").hidden = true;
  $("#complaint").hidden = false;
  window.scrollTo(0, 0);
}

async function follow(event) {
  event?.preventDefault();
  const form = $("#follow");
  clearErrors(form);
  const ticket = $("#follow-ticket").value.trim();
  if (!ticket) return;
  try {
    followed = await api(`/public/enforcement/complaints/${encodeURIComponent(ticket)}`);
    renderFollowed(followed);
  } catch (exc) {
    $("#followed").hidden = true;
    if (exc instanceof ApiError && exc.status === 404) showError("ticket", t("not_found"), form);
    else showProblem(exc, form, "ticket");
  }
}

function renderFollowed(c) {
  $("#followed").hidden = false;
  $("#f-ticket").textContent = c.ticket;
  const badge = $("#f-state");
  badge.textContent = c.state_name;
  badge.className = `badge ${c.state === "answered" ? "closed" : "open"}`;
  $("#f-at").textContent = moment(c.created_at);
  $("#f-agency").textContent = c.agency_name || t("unknown_agency");
  $("#f-when").textContent = moment(c.happened_at);
  $("#f-place").textContent = c.place;
  $("#f-what").textContent = c.what;
  $("#f-answer-box").hidden = !c.answer;
  $("#f-answer").textContent = c.answer || "";
  $("#f-answered-at").textContent = c.answered_at ? moment(c.answered_at) : "";
}

// -- start ---------------------------------------------------------------------------------------

$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
window.addEventListener("hashchange", showSection);
document.querySelector(".tabs").addEventListener("keydown", tabKeys);
$("#search").addEventListener("submit", (event) => search(event));
for (const radio of document.querySelectorAll("input[name=kind]")) radio.addEventListener("change", () => search());
$("#more").addEventListener("click", () => search(null, true));
$("#biz-send").addEventListener("click", sendBusinessCode);
$("#signin").addEventListener("submit", signIn);
$("#credit-code").addEventListener("input", () => clearErrors($("#signin")));
$("#signout").addEventListener("click", () => signOut());
$("#c-photo").addEventListener("change", (event) => complaintPhotos(event).catch(() => {}));
$("#c-phone").addEventListener("input", phoneChanged);
$("#c-send").addEventListener("click", sendComplaintCode);
$("#complaint").addEventListener("submit", complain);
$("#c-again").addEventListener("click", complainAgain);
$("#follow").addEventListener("submit", follow);
$("#happened").max = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 16);
const lastTicket = store.getItem("cityops.complaint_ticket");
if (lastTicket) $("#follow-ticket").value = lastTicket;
applyText();
showSection();
loadAgencies().catch(() => {});
search().catch(() => {});
