// Wake-ups for subscribers: after a write commits, the topics it touched are
// announced; a subscriber then reads the store from its own cursor. The
// notice carries no data, so a lost or duplicated notice costs at most a
// read, never a message. In one process this is an in-memory map; with
// several node processes on PostgreSQL (planned), LISTEN/NOTIFY would feed
// the same calls.

export type TopicKind = "group" | "welcome";

/** A topic as a map key: kind and hex of the group id or installation key. */
export function topicKey(kind: TopicKind, id: Uint8Array): string {
  return `${kind}:${Buffer.from(id).toString("hex")}`;
}

export class Notifier {
  private readonly listeners = new Map<string, Set<(key: string) => void>>();

  /** Calls `onNotice(key)` for every later notice on one of `keys`. */
  listen(keys: Iterable<string>, onNotice: (key: string) => void): () => void {
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

  notify(keys: Iterable<string>): void {
    for (const key of new Set(keys)) {
      for (const listener of this.listeners.get(key) ?? []) listener(key);
    }
  }

  /** How many topics have at least one listener (for metrics and tests). */
  get topicCount(): number {
    return this.listeners.size;
  }
}
