// Client.create against a node in this process: registration, reopening
// from the same database, and two Parley clients talking in a group; streams
// in memory and over HTTP/2.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner, deriveInboxId, ethereumMember, toEthereumAddress } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createInProcessTestNode, startTestNode, type InProcessTestNode } from "@parley/testkit";
import { Client, Group, GroupMessageKind, type ClientOptions } from "./index.js";
import { isClientError } from "./client-error.js";
import { createApiClient } from "./api/api-client.js";
import { randomBytes } from "node:crypto";

function wallet() {
  const signer = createPrivateKeySigner(randomBytes(32));
  const address = (signer.getIdentifier() as { identifier: string }).identifier;
  return { signer, address };
}

describe("@parley/client against an in-process node", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-client-"));
  let node: InProcessTestNode;

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers a new inbox with the official default nonce, and reopens the same installation", async () => {
    const w = wallet();
    const dbPath = join(dir, "a.db");
    const client = await Client.create(w.signer, { ...node.clientOptions, dbPath });
    assert.equal(client.inboxId, deriveInboxId(ethereumMember(toEthereumAddress(w.address)), 1n));
    const state = await client.inboxState();
    assert.deepEqual(state.identifiers, [w.address.toLowerCase()]);
    assert.deepEqual(state.installations.map((i) => i.id), [client.installationId]);
    const stranger = wallet().address.toLowerCase();
    assert.deepEqual(await client.canMessage([w.address, stranger]), new Map([[w.address.toLowerCase(), true], [stranger, false]]));
    const installationId = client.installationId;
    client.close();

    const reopened = await Client.create(w.signer, { ...node.clientOptions, dbPath });
    assert.equal(reopened.installationId, installationId);
    assert.equal(reopened.inboxId, client.inboxId);
    assert.equal((await reopened.inboxState()).installations.length, 1, "reopening registers nothing new");
    reopened.close();
    const built = await Client.build(w.address, { ...node.clientOptions, dbPath });
    assert.equal(built.installationId, installationId);
    built.close();
    await assert.rejects(Client.build(wallet().address, { ...node.clientOptions, dbPath }), (e) => isClientError(e) && e.code === "client.not_registered");
  });

  it("a second installation of the same address joins the existing inbox", async () => {
    const w = wallet();
    const first = await Client.create(w.signer, node.clientOptions);
    const second = await Client.create(w.signer, node.clientOptions);
    assert.equal(second.inboxId, first.inboxId);
    assert.notEqual(second.installationId, first.installationId);
    const ids = (await first.inboxState()).installations.map((i) => i.id).sort();
    assert.deepEqual(ids, [first.installationId, second.installationId].sort());
    first.close();
    second.close();
  });

  it("two Parley clients talk in a group, and a restart resumes with nothing twice", async () => {
    const aliceWallet = wallet();
    const bobDb = join(dir, "bob.db");
    const alice = await Client.create(aliceWallet.signer, node.clientOptions);
    const bobWallet = wallet();
    let bob = await Client.create(bobWallet.signer, { ...node.clientOptions, dbPath: bobDb });

    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "parley only" });
    assert.equal(group.name, "parley only");
    assert.deepEqual((await group.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId].sort());
    assert.deepEqual(group.listSuperAdmins(), [alice.inboxId]);
    await group.send("hello bob");

    const api = createApiClient(node.clientOptions);
    const bobsKeyPackage = async () =>
      (await api.mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0]?.keyPackageTlsSerialized;
    const before = await bobsKeyPackage();
    await bob.conversations.sync();
    assert.notDeepEqual(await bobsKeyPackage(), before, "the key package the welcome used was rotated");
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup instanceof Group, "bob joined from the welcome");
    assert.equal(bobsGroup.name, "parley only");
    await bobsGroup.sync();
    const bobReads = await bobsGroup.messages({ kind: GroupMessageKind.Application });
    assert.deepEqual(bobReads.map((m) => [m.content, m.senderInboxId]), [["hello bob", alice.inboxId]]);
    const alicesView = await group.messages({ kind: GroupMessageKind.Application });
    assert.equal(bobReads[0]?.id, alicesView[0]?.id, "both compute the same message id");

    await bobsGroup.send("hello alice");
    await group.sync();
    assert.deepEqual((await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["hello bob", "hello alice"]);
    assert.deepEqual((await group.messages({ direction: "descending", limit: 1 })).map((m) => m.content), ["hello alice"]);

    // Bob restarts: the group, its state and cursor come back; a sync adds nothing twice.
    bob.close();
    bob = await Client.create(bobWallet.signer, { ...node.clientOptions, dbPath: bobDb });
    const again = bob.conversations.getConversationById(group.id);
    assert.ok(again);
    await bob.conversations.syncAll();
    await group.send("after the restart");
    await again.sync();
    assert.deepEqual((await again.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["hello bob", "hello alice", "after the restart"]);
    alice.close();
    bob.close();
  });

  it("renames, describes and removes: the others see each change", async () => {
    const alice = await Client.create(wallet().signer, node.clientOptions);
    const bob = await Client.create(wallet().signer, node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup instanceof Group);

    await group.updateName("renamed");
    await bobsGroup.sync();
    assert.equal(bobsGroup.name, "renamed");
    await bobsGroup.updateDescription("described by bob");
    await group.sync();
    assert.equal(group.description, "described by bob");
    await assert.rejects(group.updateName("x".repeat(101)), (e) => isClientError(e) && e.code === "client.usage");
    await assert.rejects(group.removeMembers([alice.inboxId]), (e) => isClientError(e) && e.code === "client.usage");
    await assert.rejects(bobsGroup.removeMembers([alice.inboxId]), (e) => isClientError(e) && e.code === "client.usage", "a super admin stays");

    await group.removeMembers([bob.inboxId]);
    assert.deepEqual((await group.members()).map((m) => m.inboxId), [alice.inboxId]);
    await group.send("after bob left");
    await bobsGroup.sync();
    assert.equal(bobsGroup.isActive, false, "bob's group is inactive");
    const bobReads = (await bobsGroup.messages()).map((m) => m.content);
    assert.ok(!bobReads.includes("after bob left"), `bob read ${JSON.stringify(bobReads)}`);
    alice.close();
    bob.close();
  });

  it("two commits racing for one epoch: the loser is rebuilt on the new epoch", async () => {
    const alice = await Client.create(wallet().signer, node.clientOptions);
    const bob = await Client.create(wallet().signer, node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup instanceof Group);
    await Promise.all([group.updateName("by alice"), bobsGroup.updateDescription("by bob")]);
    await group.sync();
    await bobsGroup.sync();
    for (const g of [group, bobsGroup]) {
      assert.equal(g.name, "by alice");
      assert.equal(g.description, "by bob");
    }
    await bobsGroup.send("still in step");
    await group.sync();
    assert.deepEqual((await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still in step"]);
    alice.close();
    bob.close();
  });

  it("streams: a group's stream and streamAllMessages yield what arrives, once, and end on return()", () =>
    streamsYieldAndEnd(node.clientOptions));
});

// Streams on a node's real port as well, where opening one and ending it
// with return() cross HTTP/2 (a stream reset) rather than memory.
describe("@parley/client over HTTP/2", { timeout: 60_000 }, () => {
  let node: RunningNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.stop());

  it("streams: a group's stream and streamAllMessages yield what arrives, once, and end on return()", () =>
    streamsYieldAndEnd({ apiUrl: node.url }));
});

async function streamsYieldAndEnd(options: ClientOptions): Promise<void> {
  const alice = await Client.create(wallet().signer, options);
  const bob = await Client.create(wallet().signer, options);
  const group = await alice.conversations.createGroup([bob.inboxId]);
  await bob.conversations.sync();
  const bobsGroup = bob.conversations.getConversationById(group.id);
  assert.ok(bobsGroup);
  await bobsGroup.sync();

  const stream = bobsGroup.stream();
  const all = bob.conversations.streamAllMessages();
  await new Promise((resolve) => setTimeout(resolve, 200));
  await group.send("one");
  await group.send("two");
  const first = await stream.next();
  const second = await stream.next();
  assert.deepEqual([first.value?.content, second.value?.content], ["one", "two"]);
  assert.equal(first.value?.senderInboxId, alice.inboxId);
  const fromAll = [(await all.next()).value?.content, (await all.next()).value?.content];
  assert.deepEqual(fromAll, ["one", "two"]);

  // return() ends a stream even while a next() is waiting.
  const waiting = stream.next();
  await stream.return();
  assert.deepEqual(await waiting, { done: true, value: undefined });
  assert.equal((await stream.next()).done, true);
  await all.return();
  alice.close();
  bob.close();
}
