// Fork detection through XMTP's commit log (../shared/spec/xmtp-client.md
// 3.10 "Commit log", XIP-68; libxmtp `groups/commit_log.rs`). Members that
// applied different commits for one epoch have diverged for good: each
// decrypts nothing the other sends, and neither is told. So the publisher
// (the super admins of a group, either member of a DM, holding the signing
// secret `_commit_log_signer` of the group's metadata) publishes, for every
// commit it applied, the epoch it led to and that epoch's authenticator
// (RFC 9420 8.7); every member reads the log and compares it with its own
// record of each epoch. One authenticator that differs for an epoch marks
// the conversation forked (`debugInfo().maybeForked`, `isCommitLogForked`).
//
// Run on sync (when due: see `due`), in libxmtp's worker order: read,
// check, publish.
import { create } from "@bufbuild/protobuf";
import { epochAuthenticator, groupExtensions, type GroupState } from "@parley/mls";
import { mlsApi, messageContents as mc } from "@parley/proto";
import { call } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { logRefused } from "../logging.js";
import type { LocalEpoch } from "../store/commit-log-store.js";
import { checkRemoteEntry, commitLogPublicKey, commitLogSigner, signedEntry } from "./commit-log-entry.js";
import { decodeImmutableMetadata, decodeMutableMetadata } from "./group-metadata.js";

/** The node's page size for the log (spec xmtp-node-api.md 1.4: 100 at most). */
const PAGE = 100;
/** Pages read in one sync: a node that serves an endless log costs a bounded amount per sync. */
const MAX_PAGES_PER_SYNC = 20;
/** The node takes at most 10 entries per BatchPublishCommitLog (spec xmtp-node-api.md 1.4). */
const PUBLISH_BATCH = 10;

/** libxmtp's commit log worker interval (`DEFAULT_INTERVAL_DURATION`, 5 minutes). */
export const COMMIT_LOG_INTERVAL_NS = 5n * 60n * 1_000_000_000n;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

interface LastRun {
  readonly epoch: bigint;
  readonly ns: bigint;
  readonly published: boolean;
}

/**
 * When each group's log was last read, per client (in memory: a restart
 * reads at its first sync). Streams sync a group on every envelope; the log
 * is read again only when it can have changed for us: a new epoch of ours,
 * entries we just published (read back), or libxmtp's interval gone by.
 */
const lastRuns = new WeakMap<ClientContext, Map<string, LastRun>>();

function due(ctx: ClientContext, localKey: Uint8Array, state: GroupState): boolean {
  const last = lastRuns.get(ctx)?.get(hex(localKey));
  return last === undefined || last.published || last.epoch !== state.epoch || ctx.nowNs() - last.ns >= COMMIT_LOG_INTERVAL_NS;
}

function ran(ctx: ClientContext, localKey: Uint8Array, state: GroupState, published: boolean): void {
  let runs = lastRuns.get(ctx);
  if (runs === undefined) lastRuns.set(ctx, (runs = new Map<string, LastRun>()));
  runs.set(hex(localKey), { epoch: state.epoch, ns: ctx.nowNs(), published });
}

/**
 * Records the epoch we created or joined, with its authenticator: with those
 * of every commit applied after it (recordCommit), the history a welcome for
 * a group id we hold is compared against (known-group-welcome.ts).
 */
export function recordJoined(ctx: ClientContext, localKey: Uint8Array, state: GroupState): void {
  ctx.store.commitLog.recordLocal(localKey, {
    epoch: state.epoch,
    commitSequenceId: 0n,
    lastEpochAuthenticator: new Uint8Array(),
    epochAuthenticator: epochAuthenticator(state),
  });
}

/** Records the epoch that `commit` (at the node's `cursor`) led to, and the one it came from. */
export function recordCommit(ctx: ClientContext, localKey: Uint8Array, before: GroupState, after: GroupState, cursor: bigint): void {
  if (after.epoch <= before.epoch) return;
  const log = ctx.store.commitLog;
  const previous = epochAuthenticator(before);
  // The epoch we created or joined has no commit of ours on record: keep it too.
  log.recordLocal(localKey, { epoch: before.epoch, commitSequenceId: 0n, lastEpochAuthenticator: new Uint8Array(), epochAuthenticator: previous });
  log.recordLocal(localKey, { epoch: after.epoch, commitSequenceId: cursor, lastEpochAuthenticator: previous, epochAuthenticator: epochAuthenticator(after) });
}

function isPublisher(ctx: ClientContext, state: GroupState): boolean {
  const ext = groupExtensions(state);
  if (decodeImmutableMetadata(ext.immutableMetadata).conversationType === mc.ConversationType.DM) return true;
  return decodeMutableMetadata(ext.mutableMetadata).superAdminList?.inboxIds.includes(ctx.inboxId) ?? false;
}

async function readLog(ctx: ClientContext, localKey: Uint8Array, groupId: Uint8Array, publicKey: Uint8Array): Promise<void> {
  const log = ctx.store.commitLog;
  let cursor = log.group(localKey).readCursor;
  for (let page = 0; page < MAX_PAGES_PER_SYNC; page++) {
    const response = await call("BatchQueryCommitLog", () =>
      ctx.api.mls.batchQueryCommitLog({
        requests: [{ groupId, pagingInfo: { direction: mlsApi.SortDirection.ASCENDING, limit: PAGE, idCursor: cursor } }],
      }),
    );
    const entries = response.responses[0]?.commitLogEntries ?? [];
    let last = cursor;
    ctx.store.transaction(() => {
      for (const raw of entries) {
        // The node's ids must rise: one that does not is a replay, and is not read.
        if (raw.sequenceId <= last) continue;
        last = raw.sequenceId;
        // Entries of another group on this id (local-key.ts) are signed with
        // its own key (the commit log signer of its metadata): refused here.
        const check = checkRemoteEntry(groupId, raw, publicKey, log.latestRemote(localKey));
        if (check.kind === "accepted") log.insertRemote(localKey, check.entry);
        else logRefused(ctx.logger, "refused.commit_log", { groupId: hex(localKey), cursor: raw.sequenceId, reason: check.reason }, "debug");
      }
      log.setReadCursor(localKey, last);
    });
    if (entries.length < PAGE || last === cursor) return;
    cursor = last;
  }
}

function checkFork(ctx: ClientContext, localKey: Uint8Array): void {
  const log = ctx.store.commitLog;
  const mismatch = log.firstMismatch(localKey);
  if (mismatch === undefined) return;
  log.markForked(
    localKey,
    mismatch.epoch,
    `epoch ${mismatch.epoch}: our epoch authenticator (commit ${mismatch.localSequenceId}) differs from the commit log's (commit ${mismatch.remoteSequenceId})`,
  );
  logRefused(ctx.logger, "refused.commit_log", { groupId: hex(localKey), reason: "forked" }, "warn");
}

/** @returns whether anything was published. */
async function publish(ctx: ClientContext, localKey: Uint8Array, groupId: Uint8Array, seed: Uint8Array): Promise<boolean> {
  const log = ctx.store.commitLog;
  const pending: LocalEpoch[] = log.localAfter(localKey, log.group(localKey).publishedThrough);
  for (let i = 0; i < pending.length; i += PUBLISH_BATCH) {
    const batch = pending.slice(i, i + PUBLISH_BATCH);
    await call("BatchPublishCommitLog", () =>
      ctx.api.mls.batchPublishCommitLog(
        create(mlsApi.BatchPublishCommitLogRequestSchema, { requests: batch.map((e) => signedEntry(groupId, e, seed)) }),
      ),
    );
    log.setPublishedThrough(localKey, batch[batch.length - 1]?.commitSequenceId ?? 0n);
  }
  return pending.length > 0;
}

/**
 * Reads the group's commit log, checks it against our epochs, and publishes
 * ours when we are a publisher. A group whose metadata holds no signing
 * secret has no log we could trust, and is left unchecked.
 *
 * @throws ClientError `client.network` (from the node); the next sync retries.
 */
export async function syncCommitLog(ctx: ClientContext, localKey: Uint8Array, state: GroupState): Promise<void> {
  if (!due(ctx, localKey, state)) return;
  const { groupId } = state;
  recordJoined(ctx, localKey, state);
  const publicKey = commitLogPublicKey(state);
  if (publicKey === undefined) return;
  await readLog(ctx, localKey, groupId, publicKey);
  checkFork(ctx, localKey);
  const seed = commitLogSigner(state);
  // A member that has seen its group fork publishes nothing: its epochs
  // would put the others in the wrong.
  const published =
    seed !== undefined && isPublisher(ctx, state) && ctx.store.commitLog.group(localKey).forkedEpoch === undefined
      ? await publish(ctx, localKey, groupId, seed)
      : false;
  ran(ctx, localKey, state, published);
}
