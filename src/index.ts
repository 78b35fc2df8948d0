/** Worker entry: the HTTP API, the tenant index's queue consumer, and the Durable Object classes. */
import { app } from "./http/app";
import { consumeIndexBatch } from "./tenant-index/consumer";

export { PersonaSession } from "./persona/object";
export { TenantIndex } from "./tenant-index/object";

export default {
  fetch: app.fetch,
  queue: (batch, env) => consumeIndexBatch(batch, env),
} satisfies ExportedHandler<Env>;
