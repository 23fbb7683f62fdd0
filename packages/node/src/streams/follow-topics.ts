// A subscription: every record of its topics after each topic's cursor, in
// id order per topic, none skipped and none twice. It listens before it
// reads, and reads from the store rather than from the notices, so a write
// that commits while history is being sent is still picked up.
import type { Notifier } from "./notifier.js";

export interface FollowedTopic<Id> {
  /** The Notifier key of the topic. */
  readonly key: string;
  readonly id: Id;
  /** Exclusive: records after this one. */
  readonly cursor: bigint;
}

/** Reads up to `limit` records of a topic after `cursor`, ascending. */
export type ReadAfter<Id, R> = (id: Id, cursor: bigint, limit: number) => Promise<R[]>;

const BATCH = 100;

export async function* followTopics<Id, R extends { readonly id: bigint }>(
  topics: readonly FollowedTopic<Id>[],
  read: ReadAfter<Id, R>,
  notifier: Notifier,
  signal: AbortSignal,
): AsyncGenerator<R> {
  const byKey = new Map<string, { id: Id; cursor: bigint }>();
  for (const topic of topics) {
    const known = byKey.get(topic.key);
    // The same topic twice: follow it once, from the earlier cursor.
    if (!known || topic.cursor < known.cursor) byKey.set(topic.key, { id: topic.id, cursor: topic.cursor });
  }
  const due = new Set(byKey.keys());
  let wake: (() => void) | undefined;
  const stop = notifier.listen(byKey.keys(), (key) => {
    due.add(key);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    while (!signal.aborted) {
      if (due.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      for (const key of [...due]) {
        due.delete(key);
        const topic = byKey.get(key);
        if (!topic) continue;
        const records = await read(topic.id, topic.cursor, BATCH);
        for (const record of records) {
          if (record.id <= topic.cursor) continue;
          topic.cursor = record.id;
          yield record;
          if (signal.aborted) return;
        }
        // A full batch may have more behind it.
        if (records.length === BATCH) due.add(key);
      }
    }
  } finally {
    stop();
    signal.removeEventListener("abort", onAbort);
  }
}
