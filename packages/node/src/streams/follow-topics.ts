// A subscription: every record of its topics after each topic's cursor, in
// id order per topic, none skipped and none twice. It listens before it
// reads, and reads from the store rather than from the notices, so a write
// that commits while history is being sent is still picked up. A subscriber
// that falls past its backlog limit ends with node.slow_reader (backlog.ts).
import { Backlog, type StreamLimits } from "./backlog.js";
import type { Notifier } from "./notifier.js";

export interface FollowedTopic<Id> {
  /** The Notifier key of the topic. */
  readonly key: string;
  readonly id: Id;
  /** Exclusive: records after this one. */
  readonly cursor: bigint;
}

/** Reads up to `limit` records of a topic after `cursor`, ascending; `more`: records may follow them. */
export type ReadAfter<Id, R> = (id: Id, cursor: bigint, limit: number) => Promise<{ readonly records: readonly R[]; readonly more: boolean }>;

const BATCH = 100;

/** @throws NodeError node.slow_reader once the consumer is too far behind. */
export async function* followTopics<Id, R extends { readonly id: bigint; readonly data: Uint8Array }>(
  topics: readonly FollowedTopic<Id>[],
  read: ReadAfter<Id, R>,
  notifier: Notifier,
  signal: AbortSignal,
  limits: StreamLimits,
): AsyncGenerator<R> {
  const byKey = new Map<string, { id: Id; cursor: bigint }>();
  for (const topic of topics) {
    const known = byKey.get(topic.key);
    // The same topic twice: follow it once, from the earlier cursor.
    if (!known || topic.cursor < known.cursor) byKey.set(topic.key, { id: topic.id, cursor: topic.cursor });
  }
  const due = new Set(byKey.keys());
  const backlog = new Backlog(limits);
  let wake: (() => void) | undefined;
  const stop = notifier.listen(byKey.keys(), (key, records, bytes) => {
    backlog.add(records, bytes);
    due.add(key);
    wake?.();
  });
  // A stream reset while its frame waits on the client's window leaves this
  // generator suspended at its yield for good (Connect-ES waits for a
  // "drain" that never comes, so it never returns it): the abort alone must
  // let go of the topics, or each such reset would keep its listener, and
  // through it this generator, for the life of the node.
  const onAbort = () => {
    stop();
    wake?.();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      backlog.check();
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
        const { records, more } = await read(topic.id, topic.cursor, BATCH);
        for (const record of records) {
          if (record.id <= topic.cursor) continue;
          topic.cursor = record.id;
          backlog.sent(1, record.data.length);
          yield record;
          if (signal.aborted) return;
          // Resumed once the transport took the record: the client read on, or fell behind meanwhile.
          backlog.check();
        }
        // A full batch, or one cut short, may have more behind it.
        if (more) due.add(key);
      }
    }
  } finally {
    stop();
    signal.removeEventListener("abort", onAbort);
  }
}
