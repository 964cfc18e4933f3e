// The grid worker's phone app: log in, see my tasks, hear a new one arrive, report it handled.
// Everything goes through the public API (/api/v1) and the live channel (/api/v1/ws).

const TEXT = {
  zh: {
    title: "网格任务", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", online: "在线", offline: "离线", no_tasks: "暂无待处置任务",
    report_handled: "处置反馈", note: "处置说明（可选）", due: "处置时限", lang: "English",
    new_task: "新任务", failed: "操作失败", bad_login: "用户名或密码错误", map: "任务地图",
    report_problem: "上报问题", class: "问题类别", description: "问题描述", photo: "现场照片",
    use_location: "获取当前位置", self_handled: "已现场处置（自处理）", submit: "提交",
    cancel: "取消", no_location: "请先获取当前位置", reported: "已上报：案件",
    locating: "定位中…",
  },
  en: {
    title: "Grid tasks", login: "Log in", username: "Username", password: "Password",
    sign_in: "Log in", logout: "Log out", online: "Online", offline: "Offline",
    no_tasks: "No tasks to handle", report_handled: "Report handled",
    note: "What was done (optional)", due: "Due", lang: "中文", new_task: "New task",
    failed: "Action failed", bad_login: "Wrong username or password", map: "Map of my tasks",
    report_problem: "Report a problem", class: "Kind of problem", description: "Description",
    photo: "Photo on site", use_location: "Use my location",
    self_handled: "Fixed it on the spot", submit: "Send", cancel: "Cancel",
    no_location: "Get your location first", reported: "Reported: case",
    locating: "Locating…",
  },
};

const store = window.localStorage;
let lang = store.getItem("cityops.lang") || document.documentElement.dataset.lang || "zh";
let me = null;
let socket = null;
let retry = 500;
const tasks = new Map(); // case id → { id: last frame id, case }
const LIGHTS = { green: "#1f9d55", yellow: "#d69e2e", red: "#c53030" };
let map = null;
const markers = new Map(); // case id → Leaflet circle marker

const $ = (selector, root = document) => root.querySelector(selector);
const t = (key) => TEXT[lang][key] ?? key;

function applyText() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  for (const input of document.querySelectorAll("input.note")) input.placeholder = t("note");
  $("#map").setAttribute("aria-label", t("map"));
  setOnline(socket?.readyState === WebSocket.OPEN);
  for (const entry of tasks.values()) render(entry.case);
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = store.getItem("cityops.token");
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  if (response.status === 401) {
    showLogin();
    throw new Error("unauthorized");
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail || problem.title || response.statusText);
  }
  return response.json();
}

function showLogin() {
  socket?.close();
  socket = null;
  store.removeItem("cityops.token");
  $("#login").hidden = false;
  $("#tasks").hidden = true;
  $("#logout").hidden = true;
}

async function logIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/v1/auth/token", { method: "POST", body: new URLSearchParams(form) });
  const error = $("#login-error");
  if (!response.ok) {
    error.textContent = t("bad_login");
    error.hidden = false;
    return;
  }
  error.hidden = true;
  store.setItem("cityops.token", (await response.json()).access_token);
  await start();
}

async function start() {
  me = await api("/auth/me");
  $("#login").hidden = true;
  $("#tasks").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  startMap();
  connect();
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

function lastIdKey() {
  return `cityops.last_event_id.${me.id}`;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
  socket.onopen = () => {
    const last = store.getItem(lastIdKey());
    socket.send(JSON.stringify({
      type: "auth", token: store.getItem("cityops.token"),
      last_event_id: last ? Number(last) : null,
    }));
  };
  socket.onmessage = (message) => receive(JSON.parse(message.data));
  socket.onclose = (event) => {
    setOnline(false);
    if (event.code === 4401) return showLogin();
    if (!me) return;
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

async function receive(frame) {
  if (frame.type === "hello") {
    retry = 500;
    setOnline(true);
    await loadTasks(); // after hello: nothing committed since is missed
  } else if (frame.type === "case") {
    apply(frame.id, frame.case, true);
  } else if (frame.type === "reload") {
    await loadTasks();
  }
  if (frame.id) store.setItem(lastIdKey(), String(Math.max(frame.id, Number(store.getItem(lastIdKey()) || 0))));
}

async function loadTasks() {
  const page = await api(`/cases?assignee_id=${me.id}&state=handling&limit=200`);
  const ids = new Set(page.items.map((c) => c.id));
  for (const id of [...tasks.keys()]) if (!ids.has(id)) remove(id);
  for (const c of page.items) apply(tasks.get(c.id)?.id ?? 0, c, false);
}

function isMine(c) {
  return c.assignee_id === me.id && c.state === "handling";
}

function apply(frameId, c, live) {
  const known = tasks.get(c.id);
  if (known && frameId && known.id > frameId) return; // an older frame after a newer one
  if (!isMine(c)) return remove(c.id);
  tasks.set(c.id, { id: Math.max(frameId, known?.id ?? 0), case: c });
  const card = render(c);
  if (live && !known) cue(card);
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
    card.querySelector("button.handled").addEventListener("click", () => reportHandled(c.id, card));
    card.querySelector(".place").addEventListener("click", () => map?.flyTo([c.lat, c.lon], 18));
    $("#task-list").prepend(card);
  }
  if (map) placeMarker(c);
  card.dataset.caseId = c.id;
  card.querySelector(".light").className = `light ${c.light || "none"}`;
  card.querySelector(".class-name").textContent = c.class_name || c.class_code || "";
  card.querySelector(".number").textContent = c.number;
  card.querySelector(".place").textContent = c.address || `${c.lon.toFixed(5)}, ${c.lat.toFixed(5)}`;
  card.querySelector(".description").textContent = c.description;
  // Deadlines in the centre's zone, whatever zone the phone is set to.
  const zone = document.documentElement.dataset.timezone || "Asia/Shanghai";
  const due = c.stage_due_at
    ? new Date(c.stage_due_at).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { timeZone: zone })
    : "";
  card.querySelector(".due").textContent = due ? `${t("due")}: ${due}` : "";
  card.querySelector("input.note").placeholder = t("note");
  card.querySelector("button.handled").textContent = t("report_handled");
  $("#empty").hidden = true;
  return card;
}

async function reportHandled(id, card) {
  const button = card.querySelector("button.handled");
  const error = card.querySelector(".error");
  button.disabled = true;
  try {
    await api(`/cases/${id}/actions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action: "report_handled", note: card.querySelector("input.note").value }),
    });
    remove(id);
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
    button.disabled = false;
  }
}

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
  const kind = me.roles.includes("inspector") ? "inspector" : "grid_worker";
  try {
    const result = await api("/events", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        external_id: crypto.randomUUID(), // a retry of this report is recognised, not doubled
        kind, location: here, occurred_at: new Date().toISOString(),
        class_code: form.get("class_code"), description: form.get("description"),
        self_handled: form.get("self_handled") === "on",
      }),
    });
    const photo = form.get("photo");
    if (photo && photo.size) {
      const upload = new FormData();
      upload.append("file", await shrink(photo));
      await api(`/cases/${result.case_id}/attachments`, { method: "POST", body: upload });
    }
    closeReport();
    const done = $("#report-done");
    done.textContent = `${t("reported")} ${result.case_id}`;
    done.dataset.caseId = result.case_id;
    done.hidden = false;
  } catch (exc) {
    error.textContent = `${t("failed")}: ${exc.message}`;
    error.hidden = false;
  }
}

$("#open-report").addEventListener("click", () => openReport().catch(() => {}));
$("#cancel-report").addEventListener("click", closeReport);
$("#locate").addEventListener("click", locate);
$("#report").addEventListener("submit", sendReport);
$("#login").addEventListener("submit", logIn);
$("#logout").addEventListener("click", () => { me = null; showLogin(); });
$("#lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  store.setItem("cityops.lang", lang);
  applyText();
});
applyText();
if (store.getItem("cityops.token")) start().catch(showLogin);
else showLogin();
