// The phone's outbox: what a worker does without a signal waits here (IndexedDB, so photos
// survive a closed app) and is sent, in order, when the network is back. Every entry carries
// its idempotency key from the moment it is made, so sending it twice (a reply lost on the
// way back) changes nothing on the server.

import { ApiError, api, token } from "./common.js";

const DB = "cityops-outbox";
const STORE = "entries";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result.result ?? result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

export const entries = async () => {
  const all = await run("readonly", (s) => s.getAll());
  return all.sort((a, b) => a.made - b.made);
};
const put = (entry) => run("readwrite", (s) => s.put(entry));
const drop = (key) => run("readwrite", (s) => s.delete(key));

// Upload a photo under its own key: a retry returns the photo stored the first time.
async function upload(caseId, photo, key) {
  const form = new FormData();
  form.append("file", photo, photo.name || "photo.jpg");
  const stored = await api(`/cases/${caseId}/attachments`, {
    method: "POST", body: form, headers: { "Idempotency-Key": key },
  });
  return stored.id;
}

// One entry, picking up where it stopped: a report that reached the server keeps its case id,
// a photo that was stored keeps its attachment id.
async function send(entry) {
  if (entry.kind === "report" && entry.caseId === undefined) {
    const result = await api("/events", { method: "POST", json: entry.body });
    entry.caseId = result.case_id;
    await put(entry);
  }
  if (entry.photo && entry.attachmentId === undefined) {
    entry.attachmentId = await upload(entry.caseId, entry.photo, `${entry.key}-photo`);
    await put(entry);
  }
  if (entry.kind === "action") {
    const body = { ...entry.body, request_key: entry.key };
    if (entry.attachmentId !== undefined) body.attachment_ids = [entry.attachmentId];
    await api(`/cases/${entry.caseId}/actions`, { method: "POST", json: body });
  }
  return entry;
}

let flushing = null;
const listeners = new Set();
export const onChange = (listener) => listeners.add(listener);
const changed = (detail) => { for (const listener of listeners) listener(detail); };

// Send what waits, oldest first. A lost connection stops the round (the rest would fail the
// same way); a refusal by the server (the case moved on meanwhile, say) drops that entry
// and reports why, since sending it again would be refused again.
export function flush() {
  if (!flushing) flushing = flushRound().finally(() => { flushing = null; });
  return flushing;
}

async function flushRound() {
  if (!token.get()) return;
  for (const entry of await entries()) {
    try {
      await send(entry);
      await drop(entry.key);
      changed({ sent: entry });
    } catch (exc) {
      if (exc instanceof ApiError && exc.status >= 400 && exc.status < 500 && exc.status !== 401 && exc.status !== 429) {
        await drop(entry.key);
        changed({ refused: entry, reason: exc.message });
        continue;
      }
      changed({ waiting: entry });
      return;
    }
  }
  changed({});
}

export async function add(entry) {
  await put({ ...entry, made: Date.now() });
  changed({ queued: entry });
  return flush();
}
