import type { ShardSyncState, TenantIndex } from "../tenant-index/object";

/**
 * The alarm checks of every persona object of this isolate, asked together: questions for the
 * same index shard that arrive within one tick go in one `syncStates` call, instead of one call
 * per object. Under load every busy persona checks every 10 s, so its calls would otherwise be
 * the shards' most frequent request (docs/scale.md) and a large part of what a check costs.
 * A failed call fails each question in it; each object's alarm then checks again later.
 */
const TICK_MS = 100;
/**
 * How often a waiting check looks for its answer. It cannot be handed over as a settled promise:
 * the call is made in the context of the object whose timer sends it, and a promise settled from
 * one Durable Object's context cannot wake another's. The answer is plain data, read here.
 */
const POLL_MS = 20;
/** A check with no answer by then fails (the alarm logs it and checks again later). */
const ANSWER_WAIT_MS = 10_000;

interface Question {
  persona: string;
  sessionIds: string[];
  answer?: ShardSyncState;
  error?: string;
}

let pending = new Map<string, { ns: DurableObjectNamespace<TenantIndex>; questions: Question[] }>();
let scheduled = false;

export async function askIndexShard(
  ns: DurableObjectNamespace<TenantIndex>,
  shard: string,
  persona: string,
  sessionIds: string[],
): Promise<ShardSyncState> {
  const question: Question = { persona, sessionIds };
  const entry = pending.get(shard);
  if (entry) entry.questions.push(question);
  else pending.set(shard, { ns, questions: [question] });
  if (!scheduled) {
    scheduled = true;
    setTimeout(flush, TICK_MS);
  }
  const until = Date.now() + ANSWER_WAIT_MS;
  while (question.answer === undefined && question.error === undefined) {
    if (Date.now() > until) throw new Error(`no answer from index shard ${shard} in ${ANSWER_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (question.answer === undefined) throw new Error(question.error);
  return question.answer;
}

function flush(): void {
  scheduled = false;
  const shards = pending;
  pending = new Map();
  for (const [shard, { ns, questions }] of shards) {
    ns.getByName(shard)
      .syncStates(questions.map(({ persona, sessionIds }) => ({ persona, sessionIds })))
      .then(
        (answers) => {
          questions.forEach((q, i) => {
            if (answers[i]) q.answer = answers[i];
            else q.error = `index shard ${shard} gave ${answers.length} answers to ${questions.length} questions`;
          });
        },
        (err: unknown) => {
          for (const q of questions) q.error = err instanceof Error ? err.message : String(err);
        },
      );
  }
}
