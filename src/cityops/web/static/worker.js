// The field staff's phone app: log in, see my tasks, hear a new one arrive, act on them, report
// a problem. Everything goes through the public API (/api/v1) and the live channel
// (/api/v1/ws); what is done without a signal waits in the outbox until there is one.

import { Live, api, blobUrl, formatTime, logIn, newKey, token, whenUnauthorized, words } from "./common.js";
import * as outbox from "./outbox.js";

const TEXT = {
  zh: {
    title: "网格任务", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", online: "在线", offline: "离线", no_tasks: "暂无任务",
    report_handled: "处置反馈", confirmed: "属实", not_confirmed: "不属实", pass: "核查通过",
    rework: "返工", note: "说明（可选）", due: "处置时限", lang: "English",
    new_task: "新任务", failed: "操作失败", bad_login: "用户名或密码错误", map: "任务地图",
    report_problem: "上报问题", class: "问题类别", description: "问题描述", photo: "现场照片",
    use_location: "获取当前位置", self_handled: "已现场处置（自处理）", submit: "提交",
    cancel: "取消", no_location: "请先获取当前位置", reported: "已上报：案件",
    locating: "定位中…", sign_for: "签收", signed: "已签收", waiting: "待发送 {n} 项",
    queued: "已保存，联网后自动发送", refused: "未能提交：{reason}", sending: "发送中…",
    photo_add: "附照片", evidence: "现场照片",
  },
  en: {
    title: "Grid tasks", login: "Log in", username: "Username", password: "Password",
    sign_in: "Log in", logout: "Log out", online: "Online", offline: "Offline",
    no_tasks: "No tasks", report_handled: "Report handled", confirmed: "Confirmed",
    not_confirmed: "Not there", pass: "Passed", rework: "Rework", note: "Note (optional)", due: "Due", lang: "中文", new_task: "New task",
    failed: "Action failed", bad_login: "Wrong username or password", map: "Map of my tasks",
    report_problem: "Report a problem", class: "Kind of problem", description: "Description",
    photo: "Photo on site", use_location: "Use my location",
    self_handled: "Fixed it on the spot", submit: "Send", cancel: "Cancel",
    no_location: "Get your location first", reported: "Reported: case",
    locating: "Locating…", sign_for: "Sign for", signed: "Signed for",
    waiting: "{n} waiting to send", queued: "Saved; it is sent when you are online",
    refused: "Not accepted: {reason}", sending: "Sending…", photo_add: "Add a photo",
    evidence: "Photos",
  },
};

const ui = words(TEXT);
let me = null;
let live = null;
const pending = new Map(); // case id → the action waiting in the outbox
const tasks = new Map(); // case id → { id: last frame id, case }
const LIGHTS = { green: "#1f9d55", yellow: "#d69e2e", red: "#c53030" };
let map = null;
const markers = new Map(); // case id → Leaflet circle marker

const $ = (selector, root = document) => root.querySelector(selector);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  for (const input of document.querySelectorAll("input.note")) input.placeholder = t("note");
  $("#map").setAttribute("aria-label", t("map"));
  setOnline(Boolean(live?.online));
  for (const entry of tasks.values()) render(entry.case);
  showOutbox().catch(() => {});
}

function showLogin() {
  live?.close();
  live = null;
  token.clear();
  $("#login").hidden = false;
  $("#tasks").hidden = true;
  $("#logout").hidden = true;
}
whenUnauthorized(showLogin);

async function logInSubmitted(event) {
  event.preventDefault();
  const ok = await logIn(new FormData(event.target));
  const error = $("#login-error");
  error.textContent = t("bad_login");
  error.hidden = ok;
  if (ok) await start();
}

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#tasks").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  startMap();
  for (const entry of await outbox.entries()) if (entry.kind === "action") pending.set(entry.caseId, entry);
  live = new Live({
    personId: me.id,
    onStatus: setOnline,
    onUnauthorized: showLogin,
    onHello: async () => {
      await loadTasks(); // after hello: nothing committed since is missed
      outbox.flush();
    },
    onFrame: async (frame) => {
      if (frame.type === "case") apply(frame.id, frame.case, true);
      else if (frame.type === "reload") await loadTasks();
    },
  });
  live.connect();
  showOutbox().catch(() => {});
}

// The map: my grids always drawn from our own data; base tiles only where configured.
function startMap() {
  if (map) return;
  map = L.map("map", { attributionControl: false }).setView([29.56, 106.57], 15);
  const tiles = document.documentElement.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  loadGrids().catch(() => {});
}

async function loadGrids() {
  const scope = me.scope_code || "";
  let regions = [];
  if (scope.length === 15) regions = [await api(`/regions/${scope}`)];
  else if (scope.length === 12) regions = (await api(`/regions?level=grid&parent=${scope}&limit=200`)).items;
  const features = regions.filter((r) => r.geometry).map((r) => ({
    type: "Feature", geometry: r.geometry, properties: { code: r.code, name: r.name },
  }));
  if (!features.length) return;
  const layer = L.geoJSON({ type: "FeatureCollection", features }, {
    style: { color: "#0b5cad", weight: 1, fillOpacity: 0.04, className: "grid-outline" },
    onEachFeature: (feature, shape) => shape.bindTooltip(feature.properties.name),
  }).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [8, 8] });
}

function placeMarker(c) {
  const colour = LIGHTS[c.light] || "#6b7280";
  let marker = markers.get(c.id);
  if (!marker) {
    marker = L.circleMarker([c.lat, c.lon], { radius: 9, weight: 2, className: "task-marker" })
      .addTo(map);
    marker.on("click", () => document.getElementById(`case-${c.id}`)?.scrollIntoView({ behavior: "smooth" }));
    markers.set(c.id, marker);
  }
  marker.setLatLng([c.lat, c.lon]);
  marker.setStyle({ color: colour, fillColor: colour, fillOpacity: 0.6 });
  marker.bindTooltip(c.class_name || c.class_code || "");
}

// My tasks: a grid worker's are the cases dispatched to them; an inspector's, the cases of
// their area waiting to be verified or checked on site.
const INSPECTION_STATES = ["verifying", "checking"];

async function loadTasks() {
  const lists = [];
  if (me.roles.includes("grid_worker")) lists.push(`/cases?assignee_id=${me.id}&state=handling&limit=200`);
  if (me.roles.includes("inspector") && me.scope_code) {
    lists.push(`/cases?region=${me.scope_code}&state=verifying&state=checking&limit=200`);
  }
  const items = (await Promise.all(lists.map((path) => api(path)))).flatMap((page) => page.items);
  const ids = new Set(items.map((c) => c.id));
  for (const id of [...tasks.keys()]) if (!ids.has(id)) remove(id);
  for (const c of items) apply(tasks.get(c.id)?.id ?? 0, c, false);
}

function isMine(c) {
  if (me.roles.includes("grid_worker") && c.assignee_id === me.id && c.state === "handling") return true;
  return me.roles.includes("inspector") && INSPECTION_STATES.includes(c.state)
    && Boolean(me.scope_code) && c.region_code.startsWith(me.scope_code);
}

function apply(frameId, c, isLive) {
  const known = tasks.get(c.id);
  if (known && frameId && known.id > frameId) return; // an older frame after a newer one
  if (!isMine(c)) return remove(c.id);
  tasks.set(c.id, { id: Math.max(frameId, known?.id ?? 0), case: c });
  const card = render(c);
  if (isLive && !known) cue(card);
}

function remove(id) {
  tasks.delete(id);
  markers.get(id)?.remove();
  markers.delete(id);
  document.getElementById(`case-${id}`)?.remove();
  $("#empty").hidden = tasks.size > 0;
}

function render(c) {
  let card = document.getElementById(`case-${c.id}`);
  if (!card) {
    card = $("#task-card").content.firstElementChild.cloneNode(true);
    card.id = `case-${c.id}`;
    for (const button of card.querySelectorAll(".actions button")) {
      button.addEventListener("click", () => act(c.id, card, button.dataset.action, button.dataset.outcome));
    }
    card.querySelector(".place").addEventListener("click", () => map?.flyTo([c.lat, c.lon], 18));
    const shot = card.querySelector(".shot");
    shot.querySelector("input").addEventListener("change", (event) => {
      shot.classList.toggle("has-photo", event.target.files.length > 0);
    });
    $("#task-list").prepend(card);
  }
  if (map) placeMarker(c);
  card.dataset.caseId = c.id;
  card.querySelector(".light").className = `light ${c.light || "none"}`;
  card.querySelector(".class-name").textContent = c.class_name || c.class_code || "";
  card.querySelector(".number").textContent = c.number;
  card.querySelector(".place").textContent = c.address || `${c.lon.toFixed(5)}, ${c.lat.toFixed(5)}`;
  card.querySelector(".description").textContent = c.description;
  const due = formatTime(c.stage_due_at, ui.lang);
  card.querySelector(".due").textContent = due ? `${t("due")}: ${due}` : "";
  card.querySelector("input.note").placeholder = t("note");
  card.querySelector(".shot span").textContent = t("photo_add");
  // The buttons of the step this case waits for (the server checks each anyway); signing for
  // a task is offered until it is done.
  for (const button of card.querySelectorAll(".actions button")) {
    const signed = button.dataset.action === "sign_for" && Boolean(c.signed_for_at);
    button.hidden = button.dataset.state !== c.state || signed;
    button.textContent = t(button.dataset.t);
  }
  const waiting = pending.get(c.id);
  card.classList.toggle("pending", Boolean(waiting));
  for (const button of card.querySelectorAll(".actions button")) button.disabled = Boolean(waiting);
  card.querySelector(".waiting").hidden = !waiting;
  card.querySelector(".waiting").textContent = t("queued");
  showEvidence(c, card).catch(() => {});
  $("#empty").hidden = true;
  return card;
}

// The photos already on the case (the reporter's, the camera's), once per card.
async function showEvidence(c, card) {
  const box = card.querySelector(".evidence");
  if (box.dataset.loaded) return;
  box.dataset.loaded = "1";
  const detail = await api(`/cases/${c.id}`);
  for (const a of detail.attachments.filter((x) => x.content_type.startsWith("image/")).slice(0, 4)) {
    const img = document.createElement("img");
    img.alt = a.filename;
    img.src = await blobUrl(a.url);
    box.append(img);
  }
}

// An action goes through the outbox: sent at once when there is a signal, kept and sent later
// when there is none. The photo is shrunk and the position read before it is queued, because
// both belong to the moment the worker acted.
async function act(id, card, action, outcome) {
  const error = card.querySelector(".error");
  error.hidden = true;
  for (const b of card.querySelectorAll(".actions button")) b.disabled = true;
  const file = card.querySelector(".shot input").files[0];
  const entry = {
    key: newKey(), kind: "action", caseId: id,
    body: { action, outcome: outcome || null, note: card.querySelector("input.note").value },
  };
  try {
    if (file) entry.photo = await shrink(file);
    const position = action === "sign_for" ? null : await whereAmI(5000);
    if (position) entry.body.location = position;
    pending.set(id, entry);
    if (tasks.has(id)) render(tasks.get(id).case);
    await outbox.add(entry);
  } catch (exc) {
    pending.delete(id);
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
    for (const b of card.querySelectorAll(".actions button")) b.disabled = false;
  }
}

// Where the phone is, if it can tell within `wait` ms; an action is not held up without it.
function whereAmI(wait) {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: wait, maximumAge: 60000 },
    );
  });
}

async function showOutbox() {
  const waiting = (await outbox.entries()).length;
  const badge = $("#outbox");
  badge.hidden = waiting === 0;
  badge.textContent = t("waiting", { n: waiting });
}

outbox.onChange(({ sent, refused, reason }) => {
  showOutbox().catch(() => {});
  const entry = sent || refused;
  if (!entry) return;
  if (entry.kind === "report") return reportSettled(entry, reason);
  pending.delete(entry.caseId);
  const card = document.getElementById(`case-${entry.caseId}`);
  if (sent && entry.body.action !== "sign_for") return remove(entry.caseId);
  if (tasks.has(entry.caseId)) render(tasks.get(entry.caseId).case);
  if (refused && card) {
    card.querySelector(".error").textContent = t("refused", { reason });
    card.querySelector(".error").hidden = false;
  }
});

function cue(card) {
  card.classList.add("new");
  card.setAttribute("aria-label", t("new_task"));
  setTimeout(() => card.classList.remove("new"), 4000);
  navigator.vibrate?.([200, 100, 200]);
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch {
    // No sound before the user has touched the page: the vibration and the highlight remain.
  }
}

function setOnline(online) {
  const status = $("#status");
  status.textContent = t(online ? "online" : "offline");
  status.className = `status ${online ? "online" : "offline"}`;
}

// -- reporting a problem found in the field -------------------------------------------------

const PHOTO_MAX_SIDE = 1600; // pixels: enough to see the problem, small enough for a weak signal
let here = null;

async function openReport() {
  const select = $("#report select[name=class_code]");
  if (!select.options.length) {
    const classes = await api("/catalog/classes?active=true");
    for (const k of classes) select.add(new Option(`${k.code} ${k.name}`, k.code));
  }
  $("#report").hidden = false;
  $("#report-done").hidden = true;
  $("#open-report").hidden = true;
}

function closeReport() {
  $("#report").reset();
  $("#report").hidden = true;
  $("#open-report").hidden = false;
  $("#location").textContent = "";
  here = null;
}

function locate() {
  $("#location").textContent = t("locating");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      here = { lon: position.coords.longitude, lat: position.coords.latitude };
      $("#location").textContent = `${here.lon.toFixed(5)}, ${here.lat.toFixed(5)}`;
    },
    (error) => { $("#location").textContent = error.message; },
    { enableHighAccuracy: true, timeout: 15000 },
  );
}

// A phone photo is several megabytes: it is scaled down and re-encoded before it is sent.
async function shrink(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
  return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
}

// A report goes through the outbox like any action: the event's external id is the entry's
// key, so a report sent twice is one report.
async function sendReport(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = $("#report-error");
  error.hidden = true;
  if (!here) {
    error.textContent = t("no_location");
    error.hidden = false;
    return;
  }
  const key = newKey();
  const entry = {
    key, kind: "report",
    body: {
      external_id: key, kind: me.roles.includes("inspector") ? "inspector" : "grid_worker",
      location: here, occurred_at: new Date().toISOString(),
      class_code: form.get("class_code"), description: form.get("description"),
      self_handled: form.get("self_handled") === "on",
    },
  };
  try {
    const photo = form.get("photo");
    if (photo && photo.size) entry.photo = await shrink(photo);
    closeReport();
    const done = $("#report-done");
    done.textContent = t("sending");
    done.hidden = false;
    await outbox.add(entry);
    if ((await outbox.entries()).some((e) => e.key === key)) done.textContent = t("queued");
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
  }
}

function reportSettled(entry, reason) {
  const done = $("#report-done");
  done.hidden = false;
  if (reason) {
    done.textContent = t("refused", { reason });
    return;
  }
  done.textContent = `${t("reported")} ${entry.caseId}`;
  done.dataset.caseId = entry.caseId;
}

$("#open-report").addEventListener("click", () => openReport().catch(() => {}));
$("#cancel-report").addEventListener("click", closeReport);
$("#locate").addEventListener("click", locate);
$("#report").addEventListener("submit", sendReport);
$("#login").addEventListener("submit", logInSubmitted);
$("#logout").addEventListener("click", () => { me = null; showLogin(); });
$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
// Back online: send what waits at once rather than at the next reconnection of the socket.
window.addEventListener("online", () => outbox.flush());
setInterval(() => outbox.flush(), 20000);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
applyText();
if (token.get()) start().catch(showLogin);
else showLogin();
