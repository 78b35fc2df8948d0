// The example kiosk's service worker: its own files network first, from the cache when the network
// is gone, so the page loads (and its recorder delivers later) with no network. The API's requests
// are not touched.
const CACHE = "kiosk-recorder-example-v1";
const SCOPE = new URL("./", self.location).pathname;
const FILES = ["./", "./index.html", "./app.js", "./recorder.js", "./kiosk.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES))
      .then(() => self.skipWaiting()),
  );
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname === SCOPE ? "./" : event.request, copy));
        }
        return response;
      })
      .catch(async () => (await caches.match(event.request, { ignoreSearch: true })) ?? (await caches.match("./")) ?? Response.error()),
  );
});
