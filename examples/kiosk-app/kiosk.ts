// A plain TypeScript kiosk app: DOM and ES libraries only, no Workers types.
// `npm run typecheck` compiles it against the built package (client/dist), as an app installing it would.
import { type Client, createClient, type ErrorCode } from "@persona-session/client";

const api: Client = createClient({ baseUrl: "https://api.example.com", sdkKey: "sk_..." });

export async function visit(personaId: string): Promise<ErrorCode | "NETWORK_ERROR" | null> {
  const started = await api.start(personaId);
  if (!started.ok && started.error.code !== "SESSION_ACTIVE") return started.error.code;
  const stamped = await api.stamp(personaId, { status: "SHOPPING", meta: { zone: "wine" } });
  if (!stamped.ok) return stamped.error.code;
  const when: string = stamped.data.timestamp;
  document.title = `last stamp ${when}`;
  const ended = await api.end(personaId);
  if (ended.ok) {
    const labels: string[] = ended.data.stamps.map((s) => s.status);
    console.log(labels.join(" → "), ended.data.end_reason);
  }
  return null;
}
