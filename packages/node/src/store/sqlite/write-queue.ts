// Group commit for better-sqlite3: writes that arrive in the same turn of the
// event loop run in one transaction, each in its own savepoint, so that one
// failing write doesn't undo the others, and one fsync serves them all. A
// write's promise settles only after that transaction has committed.
//
// A transaction holds at most MAX_BATCH_BYTES of large writes (one at
// least); the rest wait for the next turn, after the network had its turn.
// Small writes never wait: each transaction takes every one pending. So a
// normal client's message is never committed behind a flood of large ones
// (its fsync after 32 MiB of them took 150 ms), only beside a few.
import type Database from "better-sqlite3";

/** A write this size or smaller is small: never held back. */
export const SMALL_WRITE_BYTES = 64 * 1024;
/** The large writes one transaction takes, beyond its first. */
export const MAX_BATCH_BYTES = 2 * 1024 * 1024;

interface PendingWrite {
  readonly run: () => unknown;
  readonly bytes: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class WriteQueue {
  private pending: PendingWrite[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly db: Database.Database) {}

  /** Runs `write`, which stores about `bytes`, inside the next group transaction that has room for it. */
  enqueue<T>(write: () => T, bytes = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run: write, bytes, resolve: resolve as (value: unknown) => void, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what one transaction takes of what is pending now; with `all`, everything, in as many as it takes. */
  flush(all = false): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    do this.#commit(this.#nextBatch());
    while (all && this.pending.length > 0);
    if (this.pending.length > 0) this.scheduled = setImmediate(() => this.flush());
  }

  /** Every small write pending, and large ones in arrival order up to MAX_BATCH_BYTES (one at least). */
  #nextBatch(): PendingWrite[] {
    const batch: PendingWrite[] = [];
    const rest: PendingWrite[] = [];
    let large = 0;
    for (const write of this.pending) {
      if (write.bytes <= SMALL_WRITE_BYTES) batch.push(write);
      else if (large === 0 || large + write.bytes <= MAX_BATCH_BYTES) {
        batch.push(write);
        large += write.bytes;
      } else rest.push(write);
    }
    this.pending = rest;
    return batch;
  }

  #commit(batch: PendingWrite[]): void {
    if (batch.length === 0) return;

    const outcomes: Outcome[] = [];
    try {
      this.db.transaction(() => {
        for (const write of batch) {
          try {
            // A nested better-sqlite3 transaction is a savepoint.
            outcomes.push({ ok: true, value: this.db.transaction(write.run)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      // The commit itself failed: nothing of the batch is durable.
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
  }
}
