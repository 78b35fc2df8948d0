// The example kiosk page: a recorder on IndexedDB, buttons that queue events, and what the
// recorder says of itself. Settings come from the query string (?api=…&key=…&persona=…) or the
// form, and are kept in localStorage. `window.kiosk` is there for the browser test and the console.
import { createKioskRecorder, indexedDbStorage } from "./recorder.js";

const params = new URLSearchParams(location.search);
const saved = (name, fallback) => params.get(name) ?? localStorage.getItem(`kiosk.${name}`) ?? fallback;
const settings = {
  api: saved("api", location.origin),
  key: saved("key", ""),
  persona: saved("persona", `visitor-${crypto.randomUUID().slice(0, 8)}`),
};
for (const [name, value] of Object.entries(settings)) {
  localStorage.setItem(`kiosk.${name}`, value);
  document.getElementById(name).value = value;
}

const recorder = createKioskRecorder({ baseUrl: settings.api, key: settings.key, storage: indexedDbStorage() });
window.kiosk = { recorder, persona: (id = settings.persona) => recorder.persona(id) };

document.getElementById("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  for (const name of Object.keys(settings)) localStorage.setItem(`kiosk.${name}`, document.getElementById(name).value.trim());
  location.search = "";
});

document.getElementById("buttons").addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const persona = recorder.persona(settings.persona);
  try {
    if (button.dataset.kind === "start") await persona.start({ kiosk_id: "example-kiosk" });
    else if (button.dataset.kind === "end") await persona.end();
    else if (button.dataset.kind === "flush") await recorder.flush();
    else await persona.stamp(button.dataset.status);
  } catch (err) {
    alert(err.message);
  }
});

document.getElementById("clear").addEventListener("click", () => recorder.clearDeadLetters());

function show(status) {
  const rows = {
    pending: status.pending,
    "oldest pending": status.oldest_pending_age_ms === null ? "—" : `${Math.round(status.oldest_pending_age_ms / 1000)} s`,
    "dead letters": status.dead_letters,
    clock: status.clock_synced ? `server time (offset ${status.clock_offset_ms} ms)` : "device time (not synced yet)",
    network: navigator.onLine ? "online" : "offline",
    "last error": status.last_error ? `${status.last_error.code}: ${status.last_error.message}` : "—",
  };
  const dl = document.getElementById("status");
  dl.replaceChildren(
    ...Object.entries(rows).flatMap(([k, v]) => [
      Object.assign(document.createElement("dt"), { textContent: k }),
      Object.assign(document.createElement("dd"), { textContent: String(v) }),
    ]),
  );
  document
    .getElementById("dead")
    .replaceChildren(
      ...recorder
        .deadLetters()
        .map((d) =>
          Object.assign(document.createElement("li"), { textContent: `${d.event.kind} ${d.event.status ?? ""} — ${d.error.code}` }),
        ),
    );
}
recorder.on("change", show);
recorder.ready().then(() => show(recorder.status()));
addEventListener("offline", () => show(recorder.status()));

// Offline-first: the page itself comes from the service worker's cache when the network is gone.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("./sw.js");
