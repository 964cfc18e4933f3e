// What every page of cityops shares: the login token, calls to /api/v1, the live channel,
// idempotency keys and the centre's clock. The pages hold no data of their own.

export const store = window.localStorage;
const TOKEN = "cityops.token";

export const token = {
  get: () => store.getItem(TOKEN),
  set: (value) => store.setItem(TOKEN, value),
  clear: () => store.removeItem(TOKEN),
};

// A page's words in both languages; `lang` is remembered across pages.
export function words(table) {
  const state = { lang: store.getItem("cityops.lang") || document.documentElement.dataset.lang || "zh" };
  state.t = (key) => table[state.lang][key] ?? table.zh[key] ?? key;
  state.toggle = () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    store.setItem("cityops.lang", state.lang);
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  };
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  return state;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

// A call to the API; a problem detail becomes an ApiError, a lost connection a TypeError
// (which the offline queue tells apart: only the latter is worth trying again).
export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`/api/v1${path}`, { method: options.method, headers, body });
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, { title: "unauthorized" });
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  return response.status === 204 ? null : response.json();
}

export async function logIn(form) {
  const response = await fetch("/api/v1/auth/token", { method: "POST", body: new URLSearchParams(form) });
  if (!response.ok) return false;
  token.set((await response.json()).access_token);
  return true;
}

// An idempotency key. crypto.randomUUID exists only on https or localhost, and a phone on the
// district's network may reach the server over plain http: build a version-4 UUID by hand.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Times in the centre's zone, whatever zone the device is set to.
export function formatTime(iso, lang) {
  if (!iso) return "";
  const zone = document.documentElement.dataset.timezone || "Asia/Shanghai";
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

const CURSOR_FRAMES = new Set(["case", "reload"]);

// The live channel (/api/v1/ws): authenticates with the token, resumes from the last frame
// this person saw, reconnects with back-off. `onHello` runs after each (re)connection, the
// moment to reload lists: nothing committed after it can be missed.
export class Live {
  constructor({ personId, onHello, onFrame, onStatus, onUnauthorized: unauthorized }) {
    Object.assign(this, { personId, onHello, onFrame, onStatus, unauthorized });
    this.retry = 500;
    this.socket = null;
    this.stopped = false;
  }

  get lastKey() {
    return `cityops.last_event_id.${this.personId}`;
  }

  get online() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    this.stopped = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    this.socket = socket;
    socket.onopen = () => {
      const last = store.getItem(this.lastKey);
      socket.send(JSON.stringify({ type: "auth", token: token.get(), last_event_id: last ? Number(last) : null }));
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => {
      this.onStatus?.(false);
      if (event.code === 4401) return this.unauthorized?.();
      if (this.stopped) return;
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    };
  }

  async receive(frame) {
    if (frame.type === "hello") {
      this.retry = 500;
      this.onStatus?.(true);
      await this.onHello?.();
    } else {
      await this.onFrame?.(frame);
    }
    // Only case and reload frames carry a step id, the cursor to resume from; an alarm frame
    // (or any kind this page does not know) leaves it where it is.
    if (frame.id && CURSOR_FRAMES.has(frame.type)) {
      const seen = Number(store.getItem(this.lastKey) || 0);
      store.setItem(this.lastKey, String(Math.max(frame.id, seen)));
    }
  }

  close() {
    this.stopped = true;
    this.socket?.close();
    this.socket = null;
  }
}

// Attachments need the bearer token, which an <img src> cannot send: fetch them once and
// show them from a local object URL.
const blobs = new Map();
export async function blobUrl(url) {
  if (!blobs.has(url)) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token.get()}` } });
    if (!response.ok) throw new ApiError(response.status, {});
    blobs.set(url, URL.createObjectURL(await response.blob()));
  }
  return blobs.get(url);
}

// A phone photo is several megabytes: scaled down to `maxSide` pixels and re-encoded as a
// JPEG before it is sent. A picture the browser cannot decode goes as it is, and the server
// says whether it takes it.
export async function shrinkPhoto(file, maxSide = 1600) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
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
