// Retention: how long the node keeps group messages and welcomes. Off by
// default, as in xmtp-node-go, which keeps everything: a member who comes
// back after the retention finds the commits of the epochs they missed
// gone and can no longer read the group (it must be re-added), and an
// invitation not fetched in time is lost. An operator who bounds storage
// by time chooses that knowingly. Identity logs and key packages are never
// expired: an inbox's state is its whole log.
//
// A sweep deletes in batches, each its own transaction through the store's
// writer, so that publishes keep being acknowledged while it runs.
import type { Logger } from "../logger.js";
import type { ExpiryCutoff, Store } from "./store.js";

export interface Retention {
  /** Group messages (commits included) and commit log entries older than this are deleted. */
  readonly groupMessagesMs?: number;
  /** Welcomes older than this are deleted. */
  readonly welcomesMs?: number;
  /** How often the node sweeps; default one hour. */
  readonly sweepIntervalMs?: number;
}

const BATCH = 1000;
const HOUR_MS = 3_600_000;

const wallClockNs = () => BigInt(Date.now()) * 1_000_000n;

function positive(ms: number | undefined, what: string): bigint | undefined {
  if (ms === undefined) return undefined;
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`retention ${what} must be a positive number of milliseconds`);
  return BigInt(Math.floor(ms)) * 1_000_000n;
}

/**
 * Sweeps `store` every `sweepIntervalMs` until `stop` aborts; a sweep in
 * progress ends after its current batch.
 */
export function startRetention(store: Store, retention: Retention, logger: Logger, stop: AbortSignal, nowNs: () => bigint = wallClockNs): void {
  const groupMessagesNs = positive(retention.groupMessagesMs, "of group messages");
  const welcomesNs = positive(retention.welcomesMs, "of welcomes");
  if (groupMessagesNs === undefined && welcomesNs === undefined) return;
  let running = false;
  const sweep = async () => {
    if (running || stop.aborted) return;
    running = true;
    try {
      const now = nowNs();
      const cutoff: ExpiryCutoff = {
        groupMessagesBeforeNs: groupMessagesNs === undefined ? undefined : now - groupMessagesNs,
        welcomesBeforeNs: welcomesNs === undefined ? undefined : now - welcomesNs,
      };
      const deleted = { groupMessages: 0, commitLog: 0, welcomes: 0 };
      for (;;) {
        if (stop.aborted) break;
        const batch = await store.deleteExpired(cutoff, BATCH);
        deleted.groupMessages += batch.groupMessages;
        deleted.commitLog += batch.commitLog;
        deleted.welcomes += batch.welcomes;
        if (batch.groupMessages < BATCH && batch.commitLog < BATCH && batch.welcomes < BATCH) break;
      }
      if (deleted.groupMessages + deleted.commitLog + deleted.welcomes > 0) logger.info(deleted, "expired records deleted");
    } catch (error) {
      if (!stop.aborted) logger.error({ err: error }, "retention sweep failed");
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), retention.sweepIntervalMs ?? HOUR_MS);
  timer.unref();
  stop.addEventListener("abort", () => clearInterval(timer), { once: true });
  void sweep();
}
