// A plain JavaScript kiosk (no TypeScript, no bundler) using the client package as npm installs it.
// CI packs client/ (npm pack), installs the tarball in a scratch project beside a copy of this file
// and runs it against `npm run dev`:  node journey.mjs <base URL> <SDK key>. From this checkout,
// after `npm ci` (which builds client/dist): node examples/js-kiosk/journey.mjs
import { createClient } from "@persona-session/client";

const [baseUrl = "http://localhost:8787", sdkKey = "sk_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF"] = process.argv.slice(2);
const api = createClient({ baseUrl, sdkKey });
const persona = `js-kiosk-${Date.now()}`;

function must(step, result) {
  if (!result.ok) throw new Error(`${step}: ${result.status} ${result.error.code} ${result.error.message}`);
  return result.data;
}

const started = must("start", await api.start(persona));
const again = await api.start(persona);
if (again.ok || again.error.code !== "SESSION_ACTIVE") throw new Error("a second start should be SESSION_ACTIVE");
for (const status of ["CHAT", "SHOPPING"]) must(`stamp ${status}`, await api.stamp(persona, { status, meta: { zone: "wine" } }));
must("stamps", await api.stamps(persona, [{ status: "PAYMENT" }, { status: "COMPLETE" }]));
const live = must("current", await api.current(persona));
if (live.stamp_count !== 5) throw new Error(`current has ${live.stamp_count} stamps, expected 5`);
const ended = must("end", await api.end(persona));
const late = await api.stamp(persona, { status: "LATE" });
if (late.ok || late.error.code !== "NO_ACTIVE_SESSION") throw new Error("a stamp after the end should be NO_ACTIVE_SESSION");
const page = must("history", await api.history(persona, { limit: 5 }));
if (page.sessions[0]?.session_id !== started.session_id) throw new Error("history does not list the visit");
must("session", await api.session(persona, started.session_id));
must("erase", await api.erase(persona));
must("health", await api.health());
console.log(`packed client: ok (${ended.stamps.map((s) => s.status).join(" → ")})`);
