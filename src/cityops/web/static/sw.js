// The phone app's service worker: the app opens without a network (its shell is cached) and
// keeps up to date when there is one (network first). The API is never cached: tasks come
// live from the server, and actions taken offline wait in the app's outbox, not here.

const CACHE = "cityops-app";
const SHELL = [
  "/app/", "/app/manifest.webmanifest", "/static/app.css", "/static/common.js",
  "/static/outbox.js", "/static/worker.js", "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css", "/static/icons/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true })),
  );
});
