// XMTP's commit log entries (../shared/spec/xmtp-client.md 3.10 "Commit log",
// ../shared/spec/xmtp-node-api.md 1.2 `PlaintextCommitLogEntry`, 1.4
// BatchPublishCommitLog): building and signing ours, and the checks an entry
// from the node passes before we believe it. The node never checks them
// (it stores what it is given), so every entry it serves is untrusted: a
// size limit before parsing, the signature under the group's key, then the
// chain rules libxmtp applies (`should_skip_remote_commit_log_entry`).
import { create } from "@bufbuild/protobuf";
import { ed25519PublicKey, ed25519Sign, ed25519Verify, groupExtensions, type GroupState } from "@parley/mls";
import { associations, decode, encode, messageContents as mc } from "@parley/proto";
import type { LocalEpoch, RemoteEntry } from "../store/commit-log-store.js";
import { COMMIT_LOG_SIGNER_KEY, decodeMutableMetadata } from "./group-metadata.js";

/**
 * An entry is a group id, two 32-byte authenticators and three integers:
 * well under this. Anything larger is refused unread.
 */
export const MAX_COMMIT_LOG_ENTRY_BYTES = 1024;

/**
 * The group's commit log signing secret from its mutable metadata; undefined
 * when the group has none or it is not a 32-byte hex seed. A secret: never
 * log it or put it in an error.
 */
export function commitLogSigner(state: GroupState): Uint8Array | undefined {
  let hex: string | undefined;
  try {
    hex = decodeMutableMetadata(groupExtensions(state).mutableMetadata).attributes[COMMIT_LOG_SIGNER_KEY];
  } catch {
    return undefined;
  }
  if (hex === undefined || !/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** The public key entries must be signed with: the one of the metadata's secret. */
export function commitLogPublicKey(state: GroupState): Uint8Array | undefined {
  const seed = commitLogSigner(state);
  return seed === undefined ? undefined : ed25519PublicKey(seed);
}

/** A signed entry for one of our epochs, as BatchPublishCommitLog takes it. */
export function signedEntry(groupId: Uint8Array, local: LocalEpoch, seed: Uint8Array) {
  const serializedCommitLogEntry = encode(
    mc.PlaintextCommitLogEntrySchema,
    create(mc.PlaintextCommitLogEntrySchema, {
      groupId,
      commitSequenceId: local.commitSequenceId,
      lastEpochAuthenticator: local.lastEpochAuthenticator,
      commitResult: mc.CommitResult.APPLIED,
      appliedEpochNumber: local.epoch,
      appliedEpochAuthenticator: local.epochAuthenticator,
    }),
  );
  return {
    groupId,
    serializedCommitLogEntry,
    signature: create(associations.RecoverableEd25519SignatureSchema, {
      bytes: ed25519Sign(seed, serializedCommitLogEntry),
      publicKey: ed25519PublicKey(seed),
    }),
  };
}

export type EntryCheck =
  | { readonly kind: "accepted"; readonly entry: RemoteEntry }
  | { readonly kind: "refused"; readonly reason: string };

export interface ChainHead {
  /** The accepted entry with the highest commit sequence id. */
  readonly latest: RemoteEntry | undefined;
  /** The newest accepted entry with COMMIT_RESULT_APPLIED. */
  readonly latestApplied: RemoteEntry | undefined;
}

const refused = (reason: string): EntryCheck => ({ kind: "refused", reason });

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Whether an entry the node served may join our copy of the group's log.
 * Libxmtp's rules, in its order, with one change: the key is the one the
 * group's (MLS-authenticated) metadata holds, where libxmtp takes the key of
 * the first validly signed entry it sees.
 */
export function checkRemoteEntry(groupId: Uint8Array, raw: mc.CommitLogEntry, publicKey: Uint8Array, head: ChainHead): EntryCheck {
  const bytes = raw.serializedCommitLogEntry;
  if (bytes.length > MAX_COMMIT_LOG_ENTRY_BYTES) return refused("too_large");
  const signature = raw.signature;
  if (signature === undefined) return refused("unsigned");
  if (!equalBytes(signature.publicKey, publicKey) || !ed25519Verify(publicKey, bytes, signature.bytes)) {
    return refused("bad_signature");
  }
  let entry: mc.PlaintextCommitLogEntry;
  try {
    entry = decode(mc.PlaintextCommitLogEntrySchema, bytes, { maxBytes: MAX_COMMIT_LOG_ENTRY_BYTES });
  } catch {
    return refused("malformed");
  }
  if (!equalBytes(entry.groupId, groupId)) return refused("other_group");
  if (entry.commitSequenceId === 0n) return refused("no_commit");
  const applied = entry.commitResult === mc.CommitResult.APPLIED;
  const { latest, latestApplied } = head;
  if (latest !== undefined && entry.commitSequenceId <= latest.commitSequenceId) return refused("out_of_order");
  if (latestApplied !== undefined) {
    if (applied) {
      if (!equalBytes(entry.lastEpochAuthenticator, latestApplied.epochAuthenticator)) return refused("broken_chain");
      if (entry.appliedEpochNumber !== latestApplied.epoch + 1n) return refused("broken_chain");
    } else if (
      !equalBytes(entry.appliedEpochAuthenticator, latestApplied.epochAuthenticator) ||
      entry.appliedEpochNumber !== latestApplied.epoch
    ) {
      return refused("broken_chain");
    }
  }
  return {
    kind: "accepted",
    entry: {
      commitSequenceId: entry.commitSequenceId,
      epoch: entry.appliedEpochNumber,
      epochAuthenticator: entry.appliedEpochAuthenticator,
      applied,
    },
  };
}
