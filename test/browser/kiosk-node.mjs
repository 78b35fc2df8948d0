// The Node kiosk of test/browser/kiosk-recorder.ts: the built client package's recorder on the
// file adapter. `record`: each persona's visit (start, S0..S39, end), the personas interleaved,
// printing "<persona> <event>" once each is queued (its promise resolved), until killed or done.
// `drain`: delivers what the directory holds, then prints the recorder's status as JSON.
//   node kiosk-node.mjs record|drain <api> <key> <dir> <persona>...
import { createKioskRecorder } from "@persona-session/client";
import { fileStorage } from "@persona-session/client/node";

const [mode, baseUrl, key, dir, ...personas] = process.argv.slice(2);
const recorder = createKioskRecorder({ baseUrl, key, storage: fileStorage(dir), baseDelayMs: 200, maxDelayMs: 2_000 });

if (mode === "record") {
  const script = ["start", ...Array.from({ length: 40 }, (_, i) => `S${i}`), "end"];
  for (const event of script) {
    for (const id of personas) {
      const kiosk = recorder.persona(id);
      if (event === "start") await kiosk.start({ kiosk_id: "node-kiosk" });
      else if (event === "end") await kiosk.end();
      else await kiosk.stamp(event);
      process.stdout.write(`${id} ${event}\n`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await recorder.flush();
  await recorder.close();
} else {
  const deadline = Date.now() + 60_000;
  let status = await recorder.flush();
  while (status.pending > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    status = await recorder.flush();
  }
  await recorder.close();
  process.stdout.write(`${JSON.stringify(status)}\n`);
}
