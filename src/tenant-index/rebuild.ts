import { liveShard, monthShard, monthsBetween } from "./messages";

/**
 * Rebuilding a tenant's index: the persona objects the index knows (its live shard, and the month
 * shards from `since` to now) are asked to send their whole state again. Applying is idempotent,
 * so this is safe on a populated index too. One page of personas per call, in id order.
 */
export async function resendPage(
  env: Env,
  tenant: string,
  since: number,
  after: string,
  limit: number,
): Promise<{ personas: number; next_after: string | null }> {
  const shards = [liveShard(tenant), ...monthsBetween(since, Date.now() + 1).map((month) => monthShard(tenant, month))];
  const pages = await Promise.all(shards.map((name) => env.TENANT_INDEX.getByName(name).personas(after, limit + 1)));
  const personas = [...new Set(pages.flat())].sort().slice(0, limit + 1);
  const page = personas.slice(0, limit);
  await Promise.all(page.map((persona) => env.PERSONA.getByName(`${tenant}:${persona}`).resendToIndex()));
  return { personas: page.length, next_after: personas.length > limit ? page[page.length - 1]! : null };
}
