// Wake-ups for subscribers: after a write commits, the records it stored are
// announced by topic; a subscriber then reads the store from its own cursor.
// A notice carries no data, only how many records (and bytes) arrived, so
// that a subscriber can tell how far behind it is (backlog.ts); a lost or
// duplicated notice costs at most a read, never a message. In one process
// this is an in-memory map; with several node processes on PostgreSQL
// (planned), LISTEN/NOTIFY would feed the same calls.

export type TopicKind = "group" | "welcome";

/** A topic as a map key: kind and hex of the group id or installation key. */
export function topicKey(kind: TopicKind, id: Uint8Array): string {
  return `${kind}:${Buffer.from(id).toString("hex")}`;
}

/** One stored record, announced under its topic. */
export interface Notice {
  readonly key: string;
  /** The record's payload size. */
  readonly bytes: number;
}

/** Called once per topic of a write, with the records and bytes it added there. */
export type NoticeListener = (key: string, records: number, bytes: number) => void;

export class Notifier {
  private readonly listeners = new Map<string, Set<NoticeListener>>();

  /** Calls `onNotice` for every later notice on one of `keys`. */
  listen(keys: Iterable<string>, onNotice: NoticeListener): () => void {
    const owned = [...new Set(keys)];
    for (const key of owned) {
      let set = this.listeners.get(key);
      if (!set) {
        set = new Set();
        this.listeners.set(key, set);
      }
      set.add(onNotice);
    }
    return () => {
      for (const key of owned) {
        const set = this.listeners.get(key);
        set?.delete(onNotice);
        if (set?.size === 0) this.listeners.delete(key);
      }
    };
  }

  notify(notices: Iterable<Notice>): void {
    const perKey = new Map<string, { records: number; bytes: number }>();
    for (const { key, bytes } of notices) {
      const sum = perKey.get(key) ?? { records: 0, bytes: 0 };
      sum.records += 1;
      sum.bytes += bytes;
      perKey.set(key, sum);
    }
    for (const [key, { records, bytes }] of perKey) {
      for (const listener of this.listeners.get(key) ?? []) listener(key, records, bytes);
    }
  }

  /** How many topics have at least one listener (for metrics and tests). */
  get topicCount(): number {
    return this.listeners.size;
  }
}
