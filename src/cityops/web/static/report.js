// The residents' report page: no account; describe the problem, pick (or let the centre pick)
// its category, add photos, tap the map, optionally leave a phone number confirmed by an SMS
// code, and get a ticket to follow the case with. Everything goes through /api/v1/public.

import { ApiError, api, newKey, words } from "./common.js";
import { myTickets, remember, ticketItems } from "./tickets.js";

const TEXT = {
  zh: {
    title: "我要反映", track: "查询进度", lang: "English",
    intro: "无需注册。请描述问题、在地图上标出位置，可附照片。",
    description: "问题描述", description_hint: "例如：小区门口垃圾堆了三天没人清运。",
    category: "问题类别", suggested: "可能是：", search_category: "搜索问题类别",
    search_placeholder: "搜索类别，如“垃圾”“井盖”", unsure: "不确定，由中心判断",
    chosen: "已选：{name}", no_match: "没有匹配的类别，可选“不确定”",
    photos: "现场照片（可选，最多 3 张）", add_photo: "拍照或选择照片", remove_photo: "删除第 {n} 张照片",
    too_many: "最多 3 张照片", photo_n: "第 {n} 张照片：",
    location: "问题位置", location_hint: "在地图上点一下问题所在的位置。",
    use_location: "使用我的位置", locating: "定位中…", picked: "已选位置：{lon}, {lat}",
    no_point: "请在地图上点选问题位置", no_geolocation: "无法获取位置，请在地图上点选",
    address: "详细地址（可选）", contact: "联系方式（可选）",
    contact_hint: "留下电话便于工作人员回访；电话需短信验证，不会公开。",
    name: "称呼", phone: "手机号", send_code: "获取验证码", resend_in: "{n} 秒后可重发",
    code: "短信验证码", code_sent: "验证码已发送，{n} 分钟内有效", bad_phone: "请输入 11 位手机号",
    need_code: "请输入短信收到的 6 位验证码", need_description: "请描述问题",
    submit: "提交", sending: "提交中…", offline: "网络不通，请稍后再试；重试不会重复提交",
    failed: "提交失败：{reason}",
    done: "提交成功", your_ticket: "您的诉求编号（请保存，用于查询进度）", copy: "复制编号",
    copied: "已复制", see_progress: "查看办理进度", again: "再反映一件",
    mine: "我的诉求", map: "地图：点一下标出问题位置",
    bad_description: "问题描述有误", bad_service_code: "所选类别无效", bad_location: "位置有误",
    bad_address: "地址有误", bad_name: "称呼有误", bad_phone_number: "手机号有误",
    too_soon: "验证码已发送，请稍后再获取", bad_code: "验证码错误或已过期，请重新获取",
    bad_photos: "照片无法接收",
  },
  en: {
    title: "Report a problem", track: "Track", lang: "中文",
    intro: "No account needed. Describe the problem, mark it on the map, add photos if you can.",
    description: "What is the problem?", description_hint: "E.g. rubbish piled at the estate gate for three days.",
    category: "Category", suggested: "Perhaps:", search_category: "Search categories",
    search_placeholder: "Search, e.g. rubbish, manhole", unsure: "Not sure: let the centre decide",
    chosen: "Chosen: {name}", no_match: "No category matches; you may choose “not sure”",
    photos: "Photos (optional, up to 3)", add_photo: "Take or choose a photo", remove_photo: "Remove photo {n}",
    too_many: "Up to 3 photos", photo_n: "Photo {n}: ",
    location: "Where is it?", location_hint: "Tap the map where the problem is.",
    use_location: "Use my location", locating: "Locating…", picked: "Point: {lon}, {lat}",
    no_point: "Tap the map to mark where the problem is", no_geolocation: "Your location is not available; tap the map",
    address: "Address (optional)", contact: "Contact (optional)",
    contact_hint: "Leave a phone number for a call back; it is confirmed by SMS and never shown.",
    name: "Name", phone: "Mobile number", send_code: "Send code", resend_in: "Resend in {n} s",
    code: "SMS code", code_sent: "Code sent; valid for {n} minutes", bad_phone: "Enter an 11-digit mobile number",
    need_code: "Enter the 6-digit code from the SMS", need_description: "Describe the problem",
    submit: "Send", sending: "Sending…", offline: "No connection; try again, it will not be sent twice",
    failed: "Not sent: {reason}",
    done: "Thank you, it has been sent", your_ticket: "Your ticket (keep it to follow the case)",
    copy: "Copy", copied: "Copied", see_progress: "See progress", again: "Report another",
    mine: "My reports", map: "Map: tap to mark the problem",
    bad_description: "Check the description", bad_service_code: "Choose another category",
    bad_location: "Check the point on the map", bad_address: "Check the address",
    bad_name: "Check the name", bad_phone_number: "Check the mobile number",
    too_soon: "A code was just sent; ask again later", bad_code: "Wrong or expired code; ask for a new one",
    bad_photos: "The photo cannot be taken",
  },
};

const ui = words(TEXT);
const $ = (selector, root = document) => root.querySelector(selector);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

const MAX_PHOTOS = 3;
const PHOTO_MAX_SIDE = 1600; // pixels: enough to see the problem, small enough for a weak signal
const SUGGEST_DELAY = 600; // ms after the last keystroke: one request per pause, not per key
const SUGGEST_MIN_CHARS = 4;
const PHONE = /^1[3-9]\d{9}$/;
const HAN = /[\u4e00-\u9fff]/;

let services = [];
let chosen = ""; // a service code; empty: the centre decides
let suggestions = [];
let photos = []; // { file, url } already shrunk, in the order the resident added them
let point = null; // { lat, lon }
let map = null;
let marker = null;
let countdown = null;
let countdownLeft = 0;
// One key per report, kept across retries of the same form: a retry after a lost answer is
// then the same report, not a second one. A new key only once the report has gone through.
let formKey = newKey();

// -- words --------------------------------------------------------------------------------

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  $("#service-search").placeholder = t("search_placeholder");
  $("#map").setAttribute("aria-label", t("map"));
  if (point) showPoint();
  if (countdownLeft > 0) $("#send-code").textContent = t("resend_in", { n: countdownLeft });
  renderServices();
  renderSuggestions();
  renderPhotos();
  renderMine();
}

// -- categories ---------------------------------------------------------------------------

async function loadServices() {
  services = (await api("/public/services")).items;
  renderServices();
}

function serviceName(code) {
  return services.find((s) => s.code === code)?.name
    ?? suggestions.find((s) => s.service_code === code)?.name ?? code;
}

function matches(service, query) {
  if (!query) return true;
  const haystack = [service.name, service.group, service.description, ...(service.keywords || [])]
    .join(" ").toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((word) => haystack.includes(word));
}

function option(code, label, group) {
  const row = document.createElement("label");
  row.className = "service";
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "service_code";
  radio.value = code;
  radio.checked = code === chosen;
  radio.addEventListener("change", () => choose(code));
  const name = document.createElement("span");
  name.className = "service-name";
  name.textContent = label;
  row.append(radio, name);
  if (group) {
    const small = document.createElement("small");
    small.className = "muted";
    small.textContent = group;
    row.append(small);
  }
  return row;
}

function renderServices() {
  const query = $("#service-search").value.trim();
  const box = $("#services");
  const shown = services.filter((s) => matches(s, query));
  box.replaceChildren(option("", t("unsure"), ""), ...shown.map((s) => option(s.code, s.name, s.group)));
  $("#services-empty").hidden = shown.length > 0 || !query;
  $("#chosen").textContent = t("chosen", { name: chosen ? serviceName(chosen) : t("unsure") });
}

function choose(code) {
  chosen = code;
  for (const radio of document.querySelectorAll("input[name=service_code]")) radio.checked = radio.value === code;
  for (const chip of document.querySelectorAll("#suggestions button")) {
    chip.setAttribute("aria-pressed", String(chip.dataset.code === code));
  }
  $("#chosen").textContent = t("chosen", { name: code ? serviceName(code) : t("unsure") });
  hideError("service_code");
}

// Suggestions follow the description: asked for once the resident pauses, and an answer that
// arrives after a newer question is dropped.
let suggestTimer = null;
let suggestAsked = 0;

function descriptionChanged() {
  hideError("description");
  clearTimeout(suggestTimer);
  const text = $("#description").value.trim();
  if (text.length < SUGGEST_MIN_CHARS) return;
  suggestTimer = setTimeout(() => suggest(text).catch(() => {}), SUGGEST_DELAY);
}

async function suggest(text) {
  const asked = ++suggestAsked;
  const answer = await api("/public/suggest", { method: "POST", json: { text } });
  if (asked !== suggestAsked) return;
  suggestions = answer.items.slice(0, 3);
  renderSuggestions();
}

function renderSuggestions() {
  const box = $("#suggestions");
  const label = box.querySelector("span");
  label.textContent = t("suggested");
  box.replaceChildren(label, ...suggestions.map((s) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.code = s.service_code;
    chip.textContent = s.name;
    chip.setAttribute("aria-pressed", String(s.service_code === chosen));
    chip.addEventListener("click", () => choose(s.service_code));
    return chip;
  }));
  box.hidden = suggestions.length === 0;
}

// -- photos -------------------------------------------------------------------------------

// A phone photo is several megabytes: it is scaled down and re-encoded before it is sent. A
// picture the browser cannot decode goes as it is, and the server says whether it takes it.
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

async function photosChosen(event) {
  const input = event.target;
  const files = [...input.files];
  input.value = ""; // the same picture may be chosen again after it was removed
  hideError("photos");
  const room = MAX_PHOTOS - photos.length;
  if (files.length > room) showError("photos", t("too_many"));
  for (const file of files.slice(0, Math.max(room, 0))) {
    const small = await shrink(file);
    photos.push({ file: small, url: URL.createObjectURL(small) });
  }
  renderPhotos();
}

function renderPhotos() {
  const box = $("#thumbs");
  box.replaceChildren(...photos.map((photo, i) => {
    const figure = document.createElement("figure");
    figure.className = "thumb";
    const img = document.createElement("img");
    img.src = photo.url;
    img.alt = `${i + 1}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("remove_photo", { n: i + 1 }));
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      photos = photos.filter((p) => p !== photo);
      hideError("photos");
      renderPhotos();
    });
    figure.append(img, remove);
    return figure;
  }));
  $("#add-photo").hidden = photos.length >= MAX_PHOTOS;
}

// -- the place ----------------------------------------------------------------------------

// The district's own default view (on the element), base tiles only where configured: with
// none the resident still taps a point, and the address field says the rest.
function startMap() {
  const box = $("#map");
  map = L.map(box, { attributionControl: false })
    .setView([Number(box.dataset.lat), Number(box.dataset.lon)], Number(box.dataset.zoom));
  const tiles = document.documentElement.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  map.on("click", (event) => place(event.latlng.lat, event.latlng.lng));
}

function place(lat, lon) {
  point = { lat, lon };
  if (!marker) {
    marker = L.circleMarker([lat, lon], {
      radius: 10, weight: 3, color: "#c53030", fillColor: "#c53030", fillOpacity: 0.5, className: "picked",
    }).addTo(map);
  }
  marker.setLatLng([lat, lon]);
  hideError("location");
  showPoint();
}

function showPoint() {
  $("#point").textContent = t("picked", { lon: point.lon.toFixed(5), lat: point.lat.toFixed(5) });
}

function locate() {
  if (!navigator.geolocation) return showError("location", t("no_geolocation"));
  $("#point").textContent = t("locating");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { latitude, longitude } = position.coords;
      map.setView([latitude, longitude], Math.max(map.getZoom(), 17));
      place(latitude, longitude);
    },
    () => {
      $("#point").textContent = "";
      showError("location", t("no_geolocation"));
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

// -- phone and SMS code -------------------------------------------------------------------

function phoneChanged() {
  hideError("phone");
  $("#code-field").hidden = $("#phone").value.trim() === "";
  updateSendButton();
}

function updateSendButton() {
  $("#send-code").disabled = !PHONE.test($("#phone").value.trim()) || countdownLeft > 0;
}

// Asked without `api` because a refusal for asking too soon says in its Retry-After header
// how long the button has to wait.
async function askCode(phone) {
  const response = await fetch("/api/v1/public/phone-codes", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ phone }),
  });
  if (response.ok) return response.json();
  const problem = await response.json().catch(() => ({}));
  const exc = new ApiError(response.status, problem);
  exc.retryAfter = Number(response.headers.get("Retry-After")) || Number(problem.retry_after) || 60;
  throw exc;
}

async function sendCode() {
  const phone = $("#phone").value.trim();
  hideError("phone");
  $("#send-code").disabled = true;
  try {
    const answer = await askCode(phone);
    const sent = $("#code-sent");
    sent.textContent = t("code_sent", { n: Math.round((answer.expires_in || 300) / 60) });
    sent.hidden = false;
    startCountdown(answer.resend_after || 60);
    $("input[name=code]").focus();
  } catch (exc) {
    if (!(exc instanceof ApiError)) {
      showError("phone", t("offline"));
    } else {
      showProblem(exc.problem, "phone", exc.status);
      // Too soon: the server still counts down; so does the button.
      if (exc.status === 429) startCountdown(exc.retryAfter);
    }
    updateSendButton();
  }
}

function startCountdown(seconds) {
  clearInterval(countdown);
  countdownLeft = seconds;
  const button = $("#send-code");
  const tick = () => {
    if (countdownLeft <= 0) {
      clearInterval(countdown);
      button.textContent = t("send_code");
      updateSendButton();
      return;
    }
    button.disabled = true;
    button.textContent = t("resend_in", { n: countdownLeft });
    countdownLeft -= 1;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

// -- errors -------------------------------------------------------------------------------

function showError(field, message) {
  const box = document.querySelector(`[data-error-for="${field}"]`) || $("#form-error");
  box.textContent = message;
  box.hidden = false;
  return box;
}

function hideError(field) {
  const box = document.querySelector(`[data-error-for="${field}"]`);
  if (box) box.hidden = true;
}

function clearErrors() {
  for (const box of document.querySelectorAll("[data-error-for], #form-error")) box.hidden = true;
}

// A problem's `errors[].path` names the form field: "photos.1" the second photo, lat and lon
// the point on the map; a path the page has no field for goes above the submit button.
function fieldOf(path) {
  const [head, index] = String(path || "").split(".");
  if (head === "lat" || head === "lon") return { field: "location" };
  if (head === "photos") return { field: "photos", prefix: index ? t("photo_n", { n: Number(index) + 1 }) : "" };
  return { field: head };
}

// The server words its reasons for developers, in English: the resident gets the page's own
// words for the field first, the server's reason after them.
function explain(field, message, status) {
  if (HAN.test(message)) return message; // already in the resident's words
  const key = status === 429 ? "too_soon" : field === "phone" ? "bad_phone_number" : `bad_${field}`;
  const words = ui.t(key);
  if (words === key) return message; // a field the page has no words for
  if (!message) return words;
  return ui.lang === "zh" ? `${words}（${message}）` : `${words} (${message})`;
}

function showProblem(problem, fallback = null, status = 0) {
  const errors = problem.errors || [];
  if (!errors.length) {
    const field = fallback || "form";
    return showError(field, explain(field, problem.detail || problem.title || "", status));
  }
  let first = null;
  const shown = new Map(); // one box may collect several messages (two bad photos)
  for (const e of errors) {
    const { field, prefix = "" } = fieldOf(e.path);
    const target = document.querySelector(`[data-error-for="${field}"]`) ? field : "form";
    const message = `${prefix}${explain(field, e.message || "", status)}`;
    shown.set(target, shown.has(target) ? `${shown.get(target)}；${message}` : message);
  }
  for (const [field, message] of shown) {
    const box = showError(field, message);
    first ??= box;
  }
  return first;
}

// -- sending ------------------------------------------------------------------------------

function checkForm() {
  const problems = [];
  if (!$("#description").value.trim()) problems.push(["description", t("need_description")]);
  if (!point) problems.push(["location", t("no_point")]);
  const phone = $("#phone").value.trim();
  if (phone && !PHONE.test(phone)) problems.push(["phone", t("bad_phone")]);
  if (phone && !/^\d{6}$/.test($("input[name=code]").value.trim())) problems.push(["code", t("need_code")]);
  return problems;
}

async function submitted(event) {
  event.preventDefault();
  clearErrors();
  const problems = checkForm();
  if (problems.length) {
    const boxes = problems.map(([field, message]) => showError(field, message));
    boxes[0].scrollIntoView({ block: "center" });
    return;
  }
  const form = $("#report");
  const body = new FormData();
  body.set("description", $("#description").value.trim());
  if (chosen) body.set("service_code", chosen);
  body.set("lat", point.lat.toFixed(6));
  body.set("lon", point.lon.toFixed(6));
  for (const name of ["address", "name", "phone", "code"]) {
    const value = form.elements[name].value.trim();
    if (value) body.set(name, value);
  }
  for (const photo of photos) body.append("photos", photo.file, photo.file.name);

  const button = $("#submit");
  button.disabled = true;
  button.textContent = t("sending");
  try {
    const answer = await api("/public/reports", {
      method: "POST", body, headers: { "Idempotency-Key": formKey },
    });
    done(answer);
  } catch (exc) {
    const box = exc instanceof ApiError ? showProblem(exc.problem, null, exc.status) : showError("form", t("offline"));
    box.scrollIntoView({ block: "center" });
  } finally {
    button.disabled = false;
    button.textContent = t("submit");
  }
}

function done(answer) {
  remember(answer.ticket, answer.service_name);
  formKey = newKey();
  $("#report").hidden = true;
  $("#done").hidden = false;
  $("#done-notice").textContent = answer.notice || answer.status_note || "";
  $("#ticket").textContent = answer.ticket;
  $("#track-link").href = `/report/track?ticket=${encodeURIComponent(answer.ticket)}`;
  $("#copied").hidden = true;
  renderMine();
  $("#done").scrollIntoView({ block: "start" });
}

function again() {
  $("#report").reset();
  for (const photo of photos) URL.revokeObjectURL(photo.url);
  photos = [];
  suggestions = [];
  chosen = "";
  point = null;
  marker?.remove();
  marker = null;
  $("#point").textContent = "";
  $("#code-sent").hidden = true;
  clearErrors();
  phoneChanged();
  renderServices();
  renderSuggestions();
  renderPhotos();
  $("#done").hidden = true;
  $("#report").hidden = false;
  map.invalidateSize(); // the map was hidden with the form and has to measure itself again
  window.scrollTo(0, 0);
}

// Over plain http the clipboard API is missing: select the ticket and copy the old way.
async function copyTicket() {
  const text = $("#ticket").textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("#ticket"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  $("#copied").hidden = false;
}

// -- my reports: the tickets this phone has sent, so the resident need not write them down --

function renderMine() {
  const list = myTickets();
  $("#mine").hidden = list.length === 0;
  $("#my-tickets").replaceChildren(...ticketItems(list, ui.lang));
}

$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
$("#description").addEventListener("input", descriptionChanged);
$("#service-search").addEventListener("input", renderServices);
$("#photo-input").addEventListener("change", (event) => photosChosen(event).catch(() => {}));
$("#locate").addEventListener("click", locate);
$("#phone").addEventListener("input", phoneChanged);
$("#send-code").addEventListener("click", () => sendCode());
$("input[name=code]").addEventListener("input", () => hideError("code"));
$("input[name=address]").addEventListener("input", () => hideError("address"));
$("#report").addEventListener("submit", submitted);
$("#copy").addEventListener("click", () => copyTicket().catch(() => {}));
$("#again").addEventListener("click", again);
startMap();
applyText();
loadServices().catch((exc) => showError("service_code", exc.message));
