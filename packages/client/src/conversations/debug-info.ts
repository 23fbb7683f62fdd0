// `conversation.debugInfo()` as the official SDK 5.5.0 shapes it
// (`ConversationDebugInfo` of @xmtp/node-bindings): the epoch, the fork
// flags, and the two commit logs as text. Nothing secret: epoch
// authenticators are what the commit log publishes anyway.
import type { GroupState } from "@parley/mls";
import type { ClientContext } from "../client-context.js";

export interface ConversationDebugInfo {
  readonly epoch: bigint;
  /** The group has diverged from the other members' (the commit log disagrees with one of our epochs). */
  readonly maybeForked: boolean;
  /** Which epoch disagreed, and with which commit; "" when not forked. */
  readonly forkDetails: string;
  /** true: forked; false: the log agrees with our epochs so far; undefined: nothing to compare yet. */
  readonly isCommitLogForked?: boolean;
  /** Our record of each epoch (JSON). */
  readonly localCommitLog: string;
  /** The node's commit log entries that passed the checks (JSON). */
  readonly remoteCommitLog: string;
  /** The group's cursor at the node. */
  readonly cursor: { readonly originatorId: number; readonly sequenceId: number }[];
}

const text = (rows: readonly object[]) =>
  JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));

export function debugInfoOf(ctx: ClientContext, localKey: Uint8Array, state: GroupState, cursor: bigint): ConversationDebugInfo {
  const log = ctx.store.commitLog;
  const group = log.group(localKey);
  const remote = log.remote(localKey);
  const forked = group.forkedEpoch !== undefined;
  const compared = remote.some((r) => r.applied);
  return {
    epoch: state.epoch,
    maybeForked: forked,
    forkDetails: group.forkDetails,
    ...(forked ? { isCommitLogForked: true } : compared ? { isCommitLogForked: false } : {}),
    localCommitLog: text(log.local(localKey)),
    remoteCommitLog: text(remote),
    cursor: [{ originatorId: 0, sequenceId: Number(cursor) }],
  };
}
