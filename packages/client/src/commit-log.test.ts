// Forks are detected through XMTP's commit log (../shared/spec/xmtp-client.md
// 3.10): a malicious node withholds one member's commit from another, which
// then applies a different commit for the same epoch; the super admin's
// published log shows it, and that member ends flagged. Members that did
// not diverge are never flagged, and entries the node invents are refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createPrivateKeySigner } from "@parley/identity";
import { ed25519Keygen, ed25519Sign } from "@parley/mls";
import { SqliteStore, type Store } from "@parley/node";
import { associations, decode, encode, messageContents as mc, mlsApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient } from "./api/api-client.js";
import { Client, Group, type ClientLogger } from "./index.js";

/** The same store, seen through a node that hides the group messages named in `hidden`. */
function withholding(store: Store, hidden: Set<bigint>): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "queryGroupMessages") {
        return async (...args: Parameters<Store["queryGroupMessages"]>) =>
          (await target.queryGroupMessages(...args)).filter((m) => !hidden.has(m.id));
      }
      // The honest node owns the store and closes it.
      if (property === "close") return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function recorder(): ClientLogger & { entries: { fields: Record<string, unknown> }[] } {
  const entries: { fields: Record<string, unknown> }[] = [];
  return { entries, warn: (fields) => entries.push({ fields }), debug: (fields) => entries.push({ fields }) };
}

describe("commit log: forks are detected", { timeout: 60_000 }, () => {
  let store: SqliteStore;
  let honest: InProcessTestNode;
  let malicious: InProcessTestNode;
  const hidden = new Set<bigint>();
  const open: Client[] = [];

  before(() => {
    store = new SqliteStore({ path: ":memory:" });
    honest = createInProcessTestNode({ store });
    malicious = createInProcessTestNode({ store: withholding(store, hidden) });
  });

  after(async () => {
    for (const c of open) c.close();
    await malicious.stop();
    await honest.stop();
  });

  const newClient = async (node: InProcessTestNode, logger?: ClientLogger) => {
    const c = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, ...(logger ? { logger } : {}) });
    open.push(c);
    return c;
  };

  const joined = async (client: Client, id: string): Promise<Group> => {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group);
    return group;
  };

  it("a member shown another commit for an epoch is flagged; the others are not", async () => {
    const alice = await newClient(honest);
    const bob = await newClient(malicious);
    const carol = await newClient(honest);
    const group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId], { groupName: "one" });
    const bobs = await joined(bob, group.id);
    const carols = await joined(carol, group.id);

    // No divergence: the super admin publishes (a sync reads, checks, then
    // publishes, as libxmtp's worker), everyone checks, nobody is flagged.
    await group.sync();
    await Promise.all([group.sync(), bobs.sync(), carols.sync()]);
    for (const g of [group, bobs, carols]) {
      const info = await g.debugInfo();
      assert.equal(info.maybeForked, false);
      assert.equal(info.isCommitLogForked, false, "the log was compared and agrees");
    }

    // Alice renames (epoch n to n+1); the node hides that commit from Bob,
    // who then commits a description on epoch n and, seeing no rival,
    // merges it: his n+1 is not the others'.
    await group.updateName("two");
    const [aliceCommit] = await store.newestGroupMessages([group.groupIdBytes]);
    assert.ok(aliceCommit?.isCommit);
    hidden.add(aliceCommit.id);
    await bobs.updateDescription("bob's branch");
    assert.equal(bobs.description, "bob's branch");
    await Promise.all([group.sync(), carols.sync()]);
    assert.equal(carols.name, "two");
    assert.equal(carols.description, "", "Bob's commit lost its epoch for the others");

    await group.sync(); // publishes the rename's entry
    await Promise.all([group.sync(), bobs.sync(), carols.sync()]);
    const bobsInfo = await bobs.debugInfo();
    assert.equal(bobsInfo.maybeForked, true);
    assert.equal(bobsInfo.isCommitLogForked, true);
    assert.match(bobsInfo.forkDetails, new RegExp(`^epoch ${bobsInfo.epoch}:`));
    for (const g of [group, carols]) {
      const info = await g.debugInfo();
      assert.equal(info.maybeForked, false);
      assert.equal(info.isCommitLogForked, false);
    }
  });

  it("in a DM both members publish, and neither is flagged", async () => {
    const alice = await newClient(honest);
    const bob = await newClient(honest);
    const dm = await alice.conversations.createDm(bob.inboxId);
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(dm.id);
    assert.ok(bobs);
    // Each member's first send follows a key update commit of its own.
    await dm.sendText("hi");
    await bobs.sync();
    await bobs.sendText("hello");
    await dm.sync();
    for (let round = 0; round < 2; round++) await Promise.all([dm.sync(), bobs.sync()]);

    const entries = await store.queryCommitLog(dm.groupIdBytes, { direction: "ascending", limit: 100, cursor: 0n });
    const commits = entries.map((e) => decode(mc.PlaintextCommitLogEntrySchema, e.entry).commitSequenceId);
    assert.ok(commits.length > new Set(commits).size, "a commit both applied was published by both");
    for (const c of [dm, bobs]) {
      const info = await c.debugInfo();
      assert.equal(info.maybeForked, false);
      assert.equal(info.isCommitLogForked, false);
    }
  });

  it("entries the node makes up (signed by another key, oversized, malformed) are refused and flag nothing", async () => {
    const log = recorder();
    const alice = await newClient(honest);
    const bob = await newClient(honest, log);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await group.sync();
    const { epoch } = await bobs.debugInfo();

    const forged = (fields: Partial<mc.PlaintextCommitLogEntry>) =>
      encode(
        mc.PlaintextCommitLogEntrySchema,
        create(mc.PlaintextCommitLogEntrySchema, {
          groupId: group.groupIdBytes,
          commitSequenceId: 1n << 40n,
          lastEpochAuthenticator: randomBytes(32),
          commitResult: mc.CommitResult.APPLIED,
          appliedEpochNumber: epoch,
          appliedEpochAuthenticator: randomBytes(32),
          ...fields,
        }),
      );
    const stranger = ed25519Keygen();
    const signedBy = (key: { signKey: Uint8Array; publicKey: Uint8Array }, bytes: Uint8Array) =>
      create(associations.RecoverableEd25519SignatureSchema, { bytes: ed25519Sign(key.signKey, bytes), publicKey: key.publicKey });
    const entry = forged({});
    const api = createApiClient(honest.clientOptions);
    await api.mls.batchPublishCommitLog(
      create(mlsApi.BatchPublishCommitLogRequestSchema, {
        requests: [
          { groupId: group.groupIdBytes, serializedCommitLogEntry: entry, signature: signedBy(stranger, entry) },
          { groupId: group.groupIdBytes, serializedCommitLogEntry: randomBytes(2000), signature: signedBy(stranger, entry) },
          { groupId: group.groupIdBytes, serializedCommitLogEntry: new Uint8Array([0xff, 0xff, 0xff]), signature: signedBy(stranger, entry) },
        ],
      }),
    );
    await bobs.sync();
    const info = await bobs.debugInfo();
    assert.equal(info.maybeForked, false);
    const reasons = log.entries.filter((e) => e.fields["code"] === "refused.commit_log").map((e) => e.fields["reason"]);
    assert.deepEqual(reasons, ["bad_signature", "too_large", "bad_signature"]);
  });
});
