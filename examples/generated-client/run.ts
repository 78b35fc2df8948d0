// node dist/run.js <base URL> <SDK key>: walks one visit and checks what came back.
import { visit } from "./kiosk.js";

declare const process: { argv: string[]; exitCode?: number };

const [baseUrl = "http://localhost:8787", sdkKey = "sk_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF"] = process.argv.slice(2);
const result = await visit(baseUrl, sdkKey, `generated-${Date.now()}`);
const expected = "ENTER CHAT SHOPPING PAYMENT COMPLETE";
const problems = [
  result.labels.join(" ") === expected ? "" : `stamps ${result.labels.join(" ")}, expected ${expected}`,
  result.notModified ? "" : "If-None-Match with the ETag did not get 304",
  result.lateStamp === "NO_ACTIVE_SESSION" ? "" : `a stamp after the end got ${result.lateStamp}`,
  result.erased === 204 ? "" : `erase answered ${result.erased}`,
].filter(Boolean);
console.log(problems.length ? `generated client: FAILED: ${problems.join("; ")}` : `generated client: ok (${result.labels.join(" → ")})`);
if (problems.length) process.exitCode = 1;
