// Intents (spec section 3.8) against a node in this
// process: a client that stops at each step of publishing a commit (the
// node's answer lost, the commit never sent, the welcomes never sent) is
// reopened from its database and finishes the change, with nothing lost
// and nothing twice. The stop is a Connect-ES interceptor on the real
// transport that fails the one call, as a crash or a dropped connection
// would.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { decodeGroupState } from "@parley/mls";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { isClientError } from "./client-error.js";
import { Client, Group, GroupMessageKind, type Conversation } from "./index.js";
import { LocalStore } from "./store/local-store.js";

type Fault = "drop-request" | "drop-answer";

/** Fails the next call of `method` once: before it reaches the node, or after (the answer lost). */
function faultOnce(method: string, fault: Fault): Interceptor {
  let armed = true;
  return (next) => async (req) => {
    if (!armed || req.method.name !== method) return next(req);
    armed = false;
    if (fault === "drop-answer") await next(req);
    throw new ConnectError("connection lost (test)", Code.Unavailable);
  };
}

/** Fails the next call of `method` once `arm()` was called: for calls the client makes after setup. */
function armedFault(method: string): { interceptor: Interceptor; arm(): void } {
  let armed = false;
  return {
    interceptor: (next) => async (req) => {
      if (!armed || req.method.name !== method) return next(req);
      armed = false;
      throw new ConnectError("connection lost (test)", Code.Unavailable);
    },
    arm: () => {
      armed = true;
    },
  };
}

describe("@parley/client: intents survive a stop at every step of a commit", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-intents-"));
  let node: InProcessTestNode;
  let api: ApiClient;
  let n = 0;

  before(() => {
    node = createInProcessTestNode();
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function user(interceptors: Interceptor[] = []) {
    const signer = createPrivateKeySigner(randomBytes(32));
    const dbPath = join(dir, `u${(n += 1)}.db`);
    const client = await Client.create(signer, { ...node.clientOptions, dbPath, interceptors });
    const reopen = (again: Interceptor[] = []) => Client.create(signer, { ...node.clientOptions, dbPath, interceptors: again });
    return { client, reopen, dbPath };
  }

  async function welcomesFor(client: Client): Promise<number> {
    const res = await api.mls.queryWelcomeMessages({ installationKey: client.installationIdBytes });
    return res.messages.length;
  }

  /** Bob joins, once, and they talk both ways. */
  async function assertTalking(aliceGroup: Conversation, bob: Client): Promise<void> {
    await bob.conversations.sync();
    assert.equal(bob.conversations.list().length, 1, "Bob is in exactly one group");
    const bobs = bob.conversations.getConversationById(aliceGroup.id);
    assert.ok(bobs, "Bob joined Alice's group");
    await aliceGroup.send("hello Bob");
    await bobs.sync();
    await bobs.send("hello Alice");
    await aliceGroup.sync();
    assert.deepEqual((await aliceGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["hello Bob", "hello Alice"]);
    assert.deepEqual((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["hello Bob", "hello Alice"]);
    // Once each side has seen its own message come back, both show the node's time for it.
    await bobs.sync();
    const stamps = async (g: Conversation) => (await g.messages({ kind: GroupMessageKind.Application })).map((m) => `${m.id}@${m.sentAtNs}`);
    assert.deepEqual(await stamps(aliceGroup), await stamps(bobs));
  }

  const texts = async (g: Conversation) => (await g.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
  const alices = (u: { client: Client }) => {
    const g = u.client.conversations.list()[0];
    assert.ok(g);
    return g;
  };

  const isNetwork = (e: unknown) => isClientError(e) && e.code === "client.network";

  /**
   * Alice makes a group with Bob through a transport that fails `fault`;
   * the call fails, she stops, reopens without the fault, and syncs once.
   */
  async function stopDuringCreate(fault: Interceptor) {
    const alice = await user([fault]);
    const bob = await user();
    await assert.rejects(alice.client.conversations.createGroup([bob.client.inboxId]), isNetwork);
    const id = alice.client.conversations.list()[0]?.id;
    assert.ok(id, "the group is in Alice's store");
    alice.client.close();
    assert.equal(await welcomesFor(bob.client), 0, "no welcome went out before the stop");
    const reopened = await alice.reopen();
    const group = reopened.conversations.getConversationById(id);
    assert.ok(group);
    await group.sync();
    return { alice, bob: bob.client, reopened, group };
  }

  it("the node took the commit but the answer was lost: reopened, the commit is merged and the welcome sent once", async () => {
    const { alice, bob, reopened, group } = await stopDuringCreate(faultOnce("SendGroupMessages", "drop-answer"));
    assert.deepEqual((await group.members()).map((m) => m.inboxId).sort(), [alice.client.inboxId, bob.inboxId].sort());
    await group.sync();
    assert.equal(await welcomesFor(bob), 1, "one welcome, however many syncs");
    await assertTalking(group, bob);
    reopened.close();
    bob.close();
  });

  it("the commit never reached the node: reopened, it is sent again and completes", async () => {
    const { bob, reopened, group } = await stopDuringCreate(faultOnce("SendGroupMessages", "drop-request"));
    assert.equal(await welcomesFor(bob), 1);
    await assertTalking(group, bob);
    reopened.close();
    bob.close();
  });

  it("the welcomes were never sent: the next sync sends them", async () => {
    const { bob, reopened, group } = await stopDuringCreate(faultOnce("SendWelcomeMessages", "drop-request"));
    assert.equal(await welcomesFor(bob), 1);
    await assertTalking(group, bob);
    reopened.close();
    bob.close();
  });

  it("a commit that never reached the node while another took its epoch is rebuilt on the new epoch after a restart", async () => {
    const alice = await user();
    const bob = await user();
    const id = (await alice.client.conversations.createGroup([bob.client.inboxId])).id;
    alice.client.close();
    await bob.client.conversations.sync();
    const bobs = bob.client.conversations.getConversationById(id);
    assert.ok(bobs instanceof Group);

    // Alice renames, but the commit is lost on the way; Bob commits first.
    const faulty = await alice.reopen([faultOnce("SendGroupMessages", "drop-request")]);
    const faultyGroup = faulty.conversations.getConversationById(id);
    assert.ok(faultyGroup instanceof Group);
    await assert.rejects(faultyGroup.updateName("Alice's name"), isNetwork);
    faulty.close();
    await bobs.updateDescription("Bob's description");

    const again = await alice.reopen();
    const g = again.conversations.getConversationById(id);
    assert.ok(g instanceof Group);
    await g.sync();
    assert.equal(g.name, "Alice's name", "Alice's rename, rebuilt on Bob's epoch, landed");
    assert.equal(g.description, "Bob's description");
    await bobs.sync();
    assert.equal(bobs.name, "Alice's name");
    await g.send("still one group");
    await bobs.sync();
    assert.deepEqual((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still one group"]);
    again.close();
    bob.client.close();
  });

  it("a message whose send failed is published by the next sync, once, with the same id", async () => {
    const alice = await user();
    const bob = await user();
    const id = (await alice.client.conversations.createGroup([bob.client.inboxId])).id;
    await bob.client.conversations.sync();
    const bobs = bob.client.conversations.getConversationById(id);
    assert.ok(bobs);
    await alices(alice).send("warm-up"); // Alice's key work is done before the fault
    alice.client.close();

    const faulty = await alice.reopen([faultOnce("SendGroupMessages", "drop-request")]);
    const group = faulty.conversations.getConversationById(id);
    assert.ok(group);
    await assert.rejects(group.send("lost in transit"), isNetwork);
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["warm-up"], "not delivered yet");
    await group.sync();
    await group.sync();
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["warm-up", "lost in transit"], "delivered once");
    const sent = (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.id);
    const read = (await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.id);
    assert.deepEqual(read, sent, "the same message ids on both sides");
    faulty.close();
    bob.client.close();
  });

  it("a message whose send failed while the group moved more than 3 epochs on is encrypted anew, with the same id", async () => {
    const alice = await user();
    const bob = await user();
    const id = (await alice.client.conversations.createGroup([bob.client.inboxId])).id;
    await bob.client.conversations.sync();
    const bobs = bob.client.conversations.getConversationById(id);
    assert.ok(bobs instanceof Group);
    await alices(alice).send("warm-up");
    alice.client.close();

    const faulty = await alice.reopen([faultOnce("SendGroupMessages", "drop-request")]);
    const group = faulty.conversations.getConversationById(id);
    assert.ok(group);
    await assert.rejects(group.send("late but whole"), isNetwork);
    for (const name of ["one", "two", "three", "four", "five"]) await bobs.updateName(name);
    await group.sync();
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["warm-up", "late but whole"]);
    const sent = (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.id);
    const read = (await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.id);
    assert.deepEqual(read, sent, "the same message ids on both sides");
    faulty.close();
    bob.client.close();
  });

  it("a key update lost on its way is finished by the next send, not made twice", async () => {
    const alice = await user();
    const bob = await user();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    await bob.client.conversations.sync();
    bob.client.close();
    const faulty = await bob.reopen([faultOnce("SendGroupMessages", "drop-request")]);
    const bobs = faulty.conversations.getConversationById(group.id);
    assert.ok(bobs);
    const alicesEpoch = () => {
      const store = new LocalStore(alice.dbPath);
      try {
        const row = store.group(group.groupIdBytes);
        assert.ok(row);
        return decodeGroupState(row.state).epoch;
      } finally {
        store.close();
      }
    };
    await group.sync();
    const before = alicesEpoch();
    await assert.rejects(bobs.send("first try"), isNetwork, "the key update before the first send is lost");
    await bobs.send("second try");
    await bobs.sync(); // what is left of the lost attempt is settled here
    await group.sync();
    assert.deepEqual(await texts(group), ["second try"]);
    assert.equal(alicesEpoch(), before + 1n, "one key update from Bob, not two");
    faulty.close();
  });

  it("a welcome met by a network failure is taken again by the next sync, not skipped", async () => {
    const gate = armedFault("GetIdentityUpdates");
    const failIdentityOnce = gate.interceptor;
    const alice = await user();
    const bob = await user([failIdentityOnce]);
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    gate.arm();
    await assert.rejects(bob.client.conversations.sync(), isNetwork);
    assert.equal(bob.client.conversations.list().length, 0, "not joined while the network failed");
    await bob.client.conversations.sync();
    assert.ok(bob.client.conversations.getConversationById(group.id), "joined on the next sync");
    alice.client.close();
    bob.client.close();
  });

  it("a commit whose members could not be looked up (network) is taken again by the next sync, not refused", async () => {
    const gate = armedFault("GetIdentityUpdates");
    const failIdentityOnce = gate.interceptor;
    const alice = await user();
    const bob = await user([failIdentityOnce]);
    const carol = await user();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    await bob.client.conversations.sync();
    const bobs = bob.client.conversations.getConversationById(group.id);
    assert.ok(bobs);
    await bobs.sync();
    await group.addMembers([carol.client.inboxId]);

    gate.arm();
    await assert.rejects(bobs.sync(), isNetwork, "the lookup failed: an error, not a refusal");
    assert.equal((await bobs.members()).length, 2, "not applied yet");
    await bobs.sync();
    assert.equal((await bobs.members()).length, 3, "applied on the next sync: no fork");
    await group.send("all three");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["all three"]);
    for (const u of [alice, bob, carol]) u.client.close();
  });

  it("a stream whose wake-up sync meets a network failure goes on, and the message comes with the next one", async () => {
    const gate = armedFault("QueryGroupMessages");
    const alice = await user();
    const bob = await user([gate.interceptor]);
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    await bob.client.conversations.sync();
    const bobs = bob.client.conversations.getConversationById(group.id);
    assert.ok(bobs);
    await bobs.sync();
    const stream = bobs.stream();
    const received: unknown[] = [];
    const reading = (async () => {
      for await (const m of stream) {
        if (m.kind !== GroupMessageKind.Application) continue;
        received.push(m.content);
        if (received.length === 2) return;
      }
    })();
    // Let the subscription start before anything is sent.
    await new Promise((resolve) => setTimeout(resolve, 200));
    gate.arm();
    await group.send("one"); // Bob's sync for it fails: deferred, not the end of the stream
    await new Promise((resolve) => setTimeout(resolve, 200));
    await group.send("two"); // the next wake-up takes both
    await reading;
    assert.deepEqual(received, ["one", "two"]);
    alice.client.close();
    bob.client.close();
  });

  it("the key package a welcome used is replaced by a later sync when the first upload fails", async () => {
    const gate = armedFault("UploadKeyPackage");
    const failUploadOnce = gate.interceptor;
    const alice = await user();
    const bob = await user([failUploadOnce]);
    const onNode = async () => {
      const res = await api.mls.fetchKeyPackages({ installationKeys: [bob.client.installationIdBytes] });
      return Buffer.from(res.keyPackages[0]!.keyPackageTlsSerialized).toString("hex");
    };
    const used = await onNode();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    gate.arm();
    await assert.rejects(bob.client.conversations.sync(), isNetwork, "the rotation after the join failed");
    assert.ok(bob.client.conversations.getConversationById(group.id), "the join itself is kept");
    assert.equal(await onNode(), used, "the used key package is still the one handed out");
    await bob.client.conversations.sync();
    assert.notEqual(await onNode(), used, "replaced by the next sync");
    alice.client.close();
    bob.client.close();
  });
});
