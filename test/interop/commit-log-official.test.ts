// The commit log beside the official @xmtp/node-sdk 5.5.0
// (../shared/spec/xmtp-client.md 3.10 "Commit log"): fork detection across
// implementations works only if both record the same commit sequence id
// (the node's cursor of the commit) and the same epoch authenticators for
// each epoch. The official client's `debugInfo().localCommitLog` shows its
// record (authenticators as their first three bytes in hex); Parley's
// `debugInfo().localCommitLog` shows ours. The entries Parley publishes in
// its own group are checked against the official member's record too.
//
// What this cannot show: the official client reads and publishes the log
// from a worker that runs every five minutes, so whether it accepts
// Parley's entries is shown by the record they agree on, not by watching it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client as ParleyClient, type Conversation as ParleyConversation } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import { SqliteStore, type RunningNode } from "@parley/node";
import { decode, messageContents as mc } from "@parley/proto";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";

interface Epoch {
  readonly sequenceId: string;
  readonly epoch: string;
  /** The first three bytes, hex: what the official client's debug text shows. */
  readonly last: string;
  readonly applied: string;
}

/** The official client's record of its applied commits (its `LocalCommitLog` debug text). */
function officialEpochs(text: string): Epoch[] {
  const pattern =
    /commit_sequence_id: (\d+), last_epoch_authenticator: \\?"([0-9a-f]*)(?:\.\.)?\\?", commit_result: Success, error_message: None, applied_epoch_number: (\d+), applied_epoch_authenticator: \\?"([0-9a-f]*)(?:\.\.)?\\?"/g;
  return [...text.matchAll(pattern)]
    .map((m) => ({ sequenceId: m[1]!, last: m[2]!, epoch: m[3]!, applied: m[4]! }))
    .filter((e) => e.sequenceId !== "0");
}

async function parleyEpochs(conversation: ParleyConversation): Promise<Epoch[]> {
  const rows = JSON.parse((await conversation.debugInfo()).localCommitLog) as {
    epoch: string;
    commitSequenceId: string;
    lastEpochAuthenticator: string;
    epochAuthenticator: string;
  }[];
  return rows
    .filter((r) => r.commitSequenceId !== "0")
    .map((r) => ({ sequenceId: r.commitSequenceId, epoch: r.epoch, last: r.lastEpochAuthenticator.slice(0, 6), applied: r.epochAuthenticator.slice(0, 6) }));
}

describe("the commit log beside the official client", { timeout: 120_000 }, () => {
  let store: SqliteStore;
  let node: RunningNode;
  let official: Client;
  let parley: ParleyClient;

  before(async () => {
    store = new SqliteStore({ path: ":memory:" });
    node = await startTestNode({ store });
    useNodeForOfficial(node);
    official = await Client.create(officialSigner(createTestWallet()), options as never);
    parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
  });

  after(async () => {
    parley.close();
    await node.stop();
  });

  it("in the official client's group, both record each commit with the same sequence id and authenticators", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "first" });
    await group.updateName("second");
    await group.updateDescription("third");
    await parley.conversations.sync();
    const parleys = parley.conversations.getConversationById(group.id);
    assert.ok(parleys);
    await parleys.sync();

    const theirs = officialEpochs((await group.debugInfo()).localCommitLog);
    const ours = await parleyEpochs(parleys);
    assert.equal(ours.length, 2, "the rename and the description (we joined after the add)");
    for (const epoch of ours) assert.deepEqual(theirs.find((e) => e.sequenceId === epoch.sequenceId), epoch);
    const info = await parleys.debugInfo();
    assert.equal(info.maybeForked, false);
  });

  it("in Parley's group, the entries Parley publishes match the official member's record", async () => {
    const group = await parley.conversations.createGroup([official.inboxId], { groupName: "parley's" });
    await group.updateName("renamed");
    await group.sync();
    await official.conversations.sync();
    const theirs = await official.conversations.getConversationById(group.id);
    assert.ok(theirs);
    await theirs.sync();

    const published = (await store.queryCommitLog(group.groupIdBytes, { direction: "ascending", limit: 100, cursor: 0n })).map((r) => {
      const entry = decode(mc.PlaintextCommitLogEntrySchema, r.entry);
      const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
      return {
        sequenceId: entry.commitSequenceId.toString(),
        epoch: entry.appliedEpochNumber.toString(),
        last: hex(entry.lastEpochAuthenticator).slice(0, 6),
        applied: hex(entry.appliedEpochAuthenticator).slice(0, 6),
      };
    });
    assert.deepEqual(published, await parleyEpochs(group), "one entry per commit of ours, in order");
    const officialRecord = officialEpochs((await theirs.debugInfo()).localCommitLog);
    // The official member joined by the add commit's welcome: it records the rename.
    const rename = published[published.length - 1];
    assert.ok(rename);
    assert.deepEqual(officialRecord.find((e) => e.sequenceId === rename.sequenceId), rename);
  });
});
