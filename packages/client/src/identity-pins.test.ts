// Membership pins name real entries of an inbox's identity log
// (conversations/identity-pins.ts), through a node in this process: a
// member's commit pinning another inbox far past its log makes the group
// wait, then every member refuses it; a pin between two entries of an inbox
// is refused at once; a pin to an entry written after the commit is refused
// by the member that waited for it and by the one that comes later alike;
// and the same for the pins of a welcome.
//
// The commits are forged from Mallory's stored state with @parley/mls,
// exactly what a misbehaving client could publish. Clocks are the clients'
// and the node's `nowNs` options, moved by hand: nothing here waits.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createPrivateKeySigner } from "@parley/identity";
import { asInboxId, createGroup, groupExtensions, updateMembership, validateKeyPackage, wrapWelcome } from "@parley/mls";
import { SqliteStore } from "@parley/node";
import { mlsApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { decodeMembership, encodeMembership, newGroupExtensions } from "./conversations/group-metadata.js";
import { PIN_GRACE_NS, PIN_WAIT_NS } from "./conversations/identity-pins.js";
import { fetchInboxHistories } from "./identity/inbox-history.js";
import { Client, Group, GroupMessageKind, isClientError } from "./index.js";
import type { ClientLogger } from "./logging.js";
import { LocalStore } from "./store/local-store.js";
import { publish, recorder, refusedAt, storedGroup, type LogEntry } from "./client-fixtures.test-util.js";






function storedSecret(dbPath: string): Uint8Array {
  const store = new LocalStore(dbPath);
  try {
    const installation = store.installation();
    assert.ok(installation);
    return installation.installationSecret;
  } finally {
    store.close();
  }
}

/** The sequence id a member's stored group pins an inbox to. */
const pinOf = (dbPath: string, groupId: Uint8Array, inboxId: string) => decodeMembership(groupExtensions(storedGroup(dbPath, groupId)).membership).get(inboxId);

/** Mallory's commit re-pinning one inbox and changing nothing else. */
async function repin(malloryDb: string, groupId: Uint8Array, inboxId: string, sequenceId: bigint): Promise<Uint8Array> {
  const state = storedGroup(malloryDb, groupId);
  const map = new Map(decodeMembership(groupExtensions(state).membership)).set(inboxId, sequenceId);
  return (await updateMembership(state, { membership: encodeMembership(map), authenticate: () => true })).commit;
}

const pending = (e: unknown) => isClientError(e) && e.code === "client.identity_pending";
const wallNs = () => BigInt(Date.now()) * 1_000_000n;

describe("@parley/client: membership pins name real entries of an inbox's log", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-pins-"));
  // The node's clock: moved on by hand to write an identity entry "later".
  let nodeSkewNs = 0n;
  let node: InProcessTestNode;
  let api: ApiClient;
  const open: Client[] = [];

  before(() => {
    node = createInProcessTestNode({ store: new SqliteStore({ path: ":memory:", nowNs: () => wallNs() + nodeSkewNs }) });
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    for (const c of open) c.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const newClient = async (options: { logger?: ClientLogger; db?: string; skew?: { ns: bigint }; signer?: ReturnType<typeof createPrivateKeySigner> } = {}) => {
    const { skew } = options;
    const c = await Client.create(options.signer ?? createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      dbPath: join(dir, options.db ?? `${randomBytes(6).toString("hex")}.db`),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(skew === undefined ? {} : { nowNs: () => wallNs() + skew.ns }),
    });
    open.push(c);
    return c;
  };

  const joined = async (client: Client, id: string): Promise<Group> => {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group);
    await group.sync();
    return group;
  };

  const texts = async (group: Group) => (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

  it("a pin far past the log (2^63): the group waits before it, then every member refuses it and goes on", async () => {
    const aliceLog = recorder();
    const bobLog = recorder();
    const aliceClock = { ns: 0n };
    const bobClock = { ns: 0n };
    const alice = await newClient({ logger: aliceLog, db: "far-alice.db", skew: aliceClock });
    const bob = await newClient({ logger: bobLog, db: "far-bob.db", skew: bobClock });
    const mallory = await newClient({ db: "far-mallory.db" });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId]);
    await group.sync();
    const bobs = await joined(bob, group.id);
    await joined(mallory, group.id);
    const held = pinOf(join(dir, "far-alice.db"), group.groupIdBytes, bob.inboxId);
    assert.ok(held !== undefined && held > 0n);

    // Before, 2^63 read as "Bob's latest entry so far": accepted, and since
    // pins only rise, Bob's revoked installations could never leave.
    const cursor = await publish(api, group.groupIdBytes, await repin(join(dir, "far-mallory.db"), group.groupIdBytes, bob.inboxId, 2n ** 63n));
    await assert.rejects(group.sync(), pending, "the group waits before the commit");
    await assert.rejects(bobs.sync(), pending);
    assert.equal(pinOf(join(dir, "far-alice.db"), group.groupIdBytes, bob.inboxId), held);

    // Past the wait, by each member's own clock: the same verdict for all.
    aliceClock.ns = PIN_WAIT_NS + 1_000_000_000n;
    bobClock.ns = PIN_WAIT_NS + 1_000_000_000n;
    await group.sync();
    await bobs.sync();
    assert.equal(refusedAt(aliceLog, "refused.commit", cursor).fields["reason"], "a sequence id past its inbox's log");
    assert.equal(refusedAt(bobLog, "refused.commit", cursor).fields["reason"], "a sequence id past its inbox's log");
    assert.equal(pinOf(join(dir, "far-alice.db"), group.groupIdBytes, bob.inboxId), held);
    assert.equal(pinOf(join(dir, "far-bob.db"), group.groupIdBytes, bob.inboxId), held);
    await bobs.send("one group still");
    await group.sync();
    assert.deepEqual(await texts(group), ["one group still"]);
  });

  it("a pin between two entries of an inbox (another inbox's sequence id) is refused at once", async () => {
    const aliceLog = recorder();
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    // Bob first, then Alice and Mallory, then Bob's second installation:
    // Alice's entry lies between Bob's two.
    const bob = await newClient({ signer: bobSigner });
    const alice = await newClient({ logger: aliceLog, db: "between-alice.db" });
    const mallory = await newClient({ db: "between-mallory.db" });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId]);
    await group.sync();
    await joined(bob, group.id);
    await joined(mallory, group.id);
    const first = pinOf(join(dir, "between-alice.db"), group.groupIdBytes, bob.inboxId);
    await newClient({ signer: bobSigner });
    const logs = await fetchInboxHistories(api, [alice.inboxId, bob.inboxId]);
    const between = logs.get(alice.inboxId)?.last.sequenceId;
    const second = logs.get(bob.inboxId)?.last.sequenceId;
    assert.ok(first !== undefined && between !== undefined && second !== undefined && first < between && between < second);
    assert.equal(logs.get(bob.inboxId)?.entry(between), undefined, "no entry of Bob's");

    // Before, read as Bob's state at or below it (his first entry): no
    // installation moved, and the commit applied.
    const cursor = await publish(api, group.groupIdBytes, await repin(join(dir, "between-mallory.db"), group.groupIdBytes, bob.inboxId, between));
    await group.sync();
    assert.equal(pinOf(join(dir, "between-alice.db"), group.groupIdBytes, bob.inboxId), first);
    assert.equal(refusedAt(aliceLog, "refused.commit", cursor).fields["reason"], "a sequence id names no entry of its inbox's log");
  });

  it("a pin to an entry written after the commit is refused by the member that waited and by a later one alike", async () => {
    const aliceLog = recorder();
    const bobLog = recorder();
    const mallorySigner = createPrivateKeySigner(randomBytes(32));
    const alice = await newClient({ logger: aliceLog, db: "late-alice.db" });
    const bob = await newClient({ logger: bobLog, db: "late-bob.db" });
    const mallory = await newClient({ db: "late-mallory.db", signer: mallorySigner });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId]);
    await group.sync();
    await joined(mallory, group.id);

    // The node's sequence ids are one counter for every inbox, and nothing
    // else writes to this node: the next identity entry gets the next id.
    const everyone = open.map((c) => c.inboxId);
    const logs = await fetchInboxHistories(api, everyone);
    const next = [...logs.values()].reduce((max, h) => (h !== undefined && h.last.sequenceId > max ? h.last.sequenceId : max), 0n) + 1n;
    const cursor = await publish(api, group.groupIdBytes, await repin(join(dir, "late-mallory.db"), group.groupIdBytes, mallory.inboxId, next));
    await assert.rejects(group.sync(), pending, "Alice waits: the entry may still come");

    // Mallory's next installation writes that very entry, past the grace
    // (the node's clock moves on, and stays on).
    nodeSkewNs = PIN_GRACE_NS + 1_000_000_000n;
    await newClient({ signer: mallorySigner });
    assert.ok((await fetchInboxHistories(api, [mallory.inboxId])).get(mallory.inboxId)?.entry(next), "the pinned entry exists now");

    // Alice, who waited, and Bob, who comes later: the same verdict.
    await group.sync();
    const bobs = await joined(bob, group.id);
    const reason = "a sequence id names an entry written after the change";
    assert.equal(refusedAt(aliceLog, "refused.commit", cursor).fields["reason"], reason);
    assert.equal(refusedAt(bobLog, "refused.commit", cursor).fields["reason"], reason);
    assert.ok((pinOf(join(dir, "late-alice.db"), group.groupIdBytes, mallory.inboxId) ?? 0n) < next);
    // Bob's first sync also ran the membership check, which pins Mallory to
    // that entry now that it exists: a commit written after it, accepted.
    await bobs.send("one group still");
    await group.sync();
    assert.deepEqual(await texts(group), ["one group still"]);
    assert.equal(pinOf(join(dir, "late-alice.db"), group.groupIdBytes, mallory.inboxId), next);
    nodeSkewNs = 0n; // the inboxes of this test are not used again
  });

  /** A welcome for Bob from a group Alice builds by hand, with the pins given. */
  async function forgedWelcome(aliceDb: string, alice: Client, bob: Client, pins: (real: (inboxId: string) => bigint) => Map<string, bigint>) {
    const kp = (await api.mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0]!.keyPackageTlsSerialized;
    const { initKey } = await validateKeyPackage(kp);
    const logs = await fetchInboxHistories(api, [alice.inboxId, bob.inboxId]);
    const real = (inboxId: string) => logs.get(inboxId)?.last.sequenceId ?? 0n;
    const state = await createGroup({
      signer: { inboxId: asInboxId(alice.inboxId), privateKey: storedSecret(aliceDb) },
      extensions: newGroupExtensions(alice.inboxId, { groupName: "forged pins" }),
      authenticate: () => true,
    });
    const added = await updateMembership(state, { add: [kp], membership: encodeMembership(pins(real)), authenticate: () => true });
    const wrapped = wrapWelcome(added.welcome!, initKey, 0n);
    await api.mls.sendWelcomeMessages({
      messages: [create(mlsApi.WelcomeMessageInputSchema, { version: { case: "v1", value: { installationKey: bob.installationIdBytes, ...wrapped } } })],
    });
  }

  const welcomeRefusal = (log: { entries: LogEntry[] }) => log.entries.find((e) => e.fields["code"] === "refused.welcome")?.fields["reason"];

  it("a welcome pinning its sender far past the log waits, then is refused; a sound one still joins", async () => {
    const bobLog = recorder();
    const bobClock = { ns: 0n };
    const alice = await newClient({ db: "welcome-far-alice.db" });
    const bob = await newClient({ logger: bobLog, skew: bobClock });
    // Before, 2^63 read as Alice's latest entry: Bob joined.
    await forgedWelcome(join(dir, "welcome-far-alice.db"), alice, bob, (real) => new Map([[alice.inboxId, 2n ** 63n], [bob.inboxId, real(bob.inboxId)]]));
    await assert.rejects(bob.conversations.sync(), pending, "the welcomes wait before it");
    assert.equal(bob.conversations.list().length, 0);

    bobClock.ns = PIN_WAIT_NS + 1_000_000_000n;
    await bob.conversations.sync();
    assert.equal(bob.conversations.list().length, 0, "not joined");
    assert.equal(welcomeRefusal(bobLog), "a sequence id past its inbox's log");
    const sound = await alice.conversations.createGroup([bob.inboxId], { groupName: "sound" });
    await bob.conversations.sync();
    assert.deepEqual(bob.conversations.list().map((g) => g.id), [sound.id]);
  });

  it("a welcome pinning its sender at 0 is refused at once, as libxmtp reads 0 as a sequence id", async () => {
    const bobLog = recorder();
    const alice = await newClient({ db: "welcome-zero-alice.db" });
    const bob = await newClient({ logger: bobLog });
    // Before, 0 read as "the latest": Bob joined on any state of Alice's.
    await forgedWelcome(join(dir, "welcome-zero-alice.db"), alice, bob, (real) => new Map([[alice.inboxId, 0n], [bob.inboxId, real(bob.inboxId)]]));
    await bob.conversations.sync();
    assert.equal(bob.conversations.list().length, 0, "not joined");
    assert.equal(welcomeRefusal(bobLog), "a new sequence id of 0 names no entry");
  });
});
