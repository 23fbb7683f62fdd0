// The checks a commit log entry from the node passes (commit-log-entry.ts),
// as a table: each rule once, accepted and refused; then fast-check: any
// bytes, signed or not, give a tagged result and never a throw.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ed25519Keygen, ed25519Sign } from "@parley/mls";
import { associations, encode, messageContents as mc } from "@parley/proto";
import fc from "fast-check";
import type { LocalEpoch, RemoteEntry } from "../store/commit-log-store.js";
import { checkRemoteEntry, MAX_COMMIT_LOG_ENTRY_BYTES, signedEntry, type ChainHead } from "./commit-log-entry.js";

const SEED = Number(process.env["PARLEY_FC_SEED"] ?? 20261207);

const group = randomBytes(16);
const key = ed25519Keygen();
const auth = (n: number) => new Uint8Array(32).fill(n);
const epoch = (e: bigint, seq: bigint, last: Uint8Array, applied: Uint8Array): LocalEpoch => ({
  epoch: e,
  commitSequenceId: seq,
  lastEpochAuthenticator: last,
  epochAuthenticator: applied,
});

/** A node's CommitLogEntry for `local`, signed with the group's key. */
function served(local: LocalEpoch, id = 1n): mc.CommitLogEntry {
  const signed = signedEntry(group, local, key.signKey);
  return create(mc.CommitLogEntrySchema, { sequenceId: id, serializedCommitLogEntry: signed.serializedCommitLogEntry, signature: signed.signature });
}

function raw(fields: Partial<mc.PlaintextCommitLogEntry>, signer = key): mc.CommitLogEntry {
  const bytes = encode(
    mc.PlaintextCommitLogEntrySchema,
    create(mc.PlaintextCommitLogEntrySchema, {
      groupId: group,
      commitSequenceId: 5n,
      lastEpochAuthenticator: auth(1),
      commitResult: mc.CommitResult.APPLIED,
      appliedEpochNumber: 2n,
      appliedEpochAuthenticator: auth(2),
      ...fields,
    }),
  );
  return create(mc.CommitLogEntrySchema, {
    sequenceId: 1n,
    serializedCommitLogEntry: bytes,
    signature: create(associations.RecoverableEd25519SignatureSchema, { bytes: ed25519Sign(signer.signKey, bytes), publicKey: signer.publicKey }),
  });
}

const applied1: RemoteEntry = { commitSequenceId: 3n, epoch: 1n, epochAuthenticator: auth(1), applied: true };
const head: ChainHead = { latest: applied1, latestApplied: applied1 };
const empty: ChainHead = { latest: undefined, latestApplied: undefined };
const outcome = (entry: mc.CommitLogEntry, h: ChainHead = head) => {
  const r = checkRemoteEntry(group, entry, key.publicKey, h);
  return r.kind === "accepted" ? "accepted" : r.reason;
};

describe("commit log entries from the node", () => {
  it("each rule, once", () => {
    const table: [string, mc.CommitLogEntry, ChainHead, string][] = [
      ["ours, signed, on the chain", served(epoch(2n, 5n, auth(1), auth(2))), head, "accepted"],
      ["the first entry of a log: no chain to follow yet", served(epoch(7n, 9n, auth(6), auth(7))), empty, "accepted"],
      ["a failed commit repeating the last applied epoch", raw({ commitResult: mc.CommitResult.WRONG_EPOCH, appliedEpochNumber: 1n, appliedEpochAuthenticator: auth(1) }), head, "accepted"],
      ["larger than the limit, unread", create(mc.CommitLogEntrySchema, { serializedCommitLogEntry: new Uint8Array(MAX_COMMIT_LOG_ENTRY_BYTES + 1) }), head, "too_large"],
      ["no signature", create(mc.CommitLogEntrySchema, { serializedCommitLogEntry: served(epoch(2n, 5n, auth(1), auth(2))).serializedCommitLogEntry }), head, "unsigned"],
      ["signed by another key", raw({}, ed25519Keygen()), head, "bad_signature"],
      ["the group's key named, another's signature", (() => { const e = raw({}); e.signature!.bytes = raw({}, ed25519Keygen()).signature!.bytes; return e; })(), head, "bad_signature"],
      ["signed bytes that are not an entry", (() => { const e = raw({}); const junk = new Uint8Array([0xff, 0xff, 0xff]); e.serializedCommitLogEntry = junk; e.signature!.bytes = ed25519Sign(key.signKey, junk); return e; })(), head, "malformed"],
      ["another group's entry", raw({ groupId: randomBytes(16) }), head, "other_group"],
      ["commit sequence id 0 (a creation or welcome)", raw({ commitSequenceId: 0n }), head, "no_commit"],
      ["not past the last accepted commit", raw({ commitSequenceId: 3n }), head, "out_of_order"],
      ["a previous authenticator off the chain", raw({ lastEpochAuthenticator: auth(9) }), head, "broken_chain"],
      ["an epoch that skips one", raw({ appliedEpochNumber: 3n }), head, "broken_chain"],
      ["a failed commit claiming another epoch", raw({ commitResult: mc.CommitResult.INVALID, appliedEpochNumber: 1n, appliedEpochAuthenticator: auth(8) }), head, "broken_chain"],
    ];
    for (const [what, entry, h, expected] of table) assert.equal(outcome(entry, h), expected, what);
  });

  it("any bytes, signed with the group's key or not, give a tagged result", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), fc.boolean(), (bytes, sign) => {
        const entry = create(mc.CommitLogEntrySchema, {
          sequenceId: 1n,
          serializedCommitLogEntry: bytes,
          ...(sign ? { signature: { bytes: ed25519Sign(key.signKey, bytes), publicKey: key.publicKey } } : {}),
        });
        const r = checkRemoteEntry(group, entry, key.publicKey, head);
        assert.ok(r.kind === "accepted" || r.kind === "refused");
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
