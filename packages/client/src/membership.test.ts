// Installations joining and leaving inboxes,
// against a node in this process: revocation through the wallet, and the
// periodic membership check that adds a member's new installation and
// removes its revoked one, on a clock the test moves.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { testClock } from "./client-fixtures.test-util.js";
import { isClientError } from "./client-error.js";
import { Client, GroupMessageKind } from "./index.js";

const installationIds = async (client: Client) => (await client.inboxState()).installations.map((i) => i.id).sort();

describe("@parley/client: installations joining and leaving inboxes", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    await node.stop();
  });

  it("revokeInstallations and revokeAllOtherInstallations: the inbox state no longer lists the installations", async () => {
    const signer = createPrivateKeySigner(randomBytes(32));
    const first = await Client.create(signer, node.clientOptions);
    const second = await Client.create(signer, node.clientOptions);
    const third = await Client.create(signer, node.clientOptions);
    const fourth = await Client.create(signer, node.clientOptions);
    assert.equal((await installationIds(first)).length, 4);

    await first.revokeInstallations([second.installationIdBytes]);
    assert.deepEqual(await installationIds(first), [first.installationId, third.installationId, fourth.installationId].sort());

    // The static form, with only the wallet and the inbox id.
    await Client.revokeInstallations(signer, first.inboxId, [third.installationIdBytes], node.clientOptions);
    assert.deepEqual(await installationIds(first), [first.installationId, fourth.installationId].sort());

    await fourth.revokeAllOtherInstallations();
    assert.deepEqual(await installationIds(fourth), [fourth.installationId]);
    await fourth.revokeAllOtherInstallations();
    assert.deepEqual(await installationIds(fourth), [fourth.installationId], "nothing left to revoke is no update");
    for (const c of [first, second, third, fourth]) c.close();
  });

  it("revocation refuses a signer that is not the recovery wallet, an id not in the inbox, and a client without a signer", async () => {
    const signer = createPrivateKeySigner(randomBytes(32));
    const alice = await Client.create(signer, node.clientOptions);
    const alice2 = await Client.create(signer, node.clientOptions);
    const stranger = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const usage = (e: unknown) => isClientError(e) && e.code === "client.usage";

    await assert.rejects(
      Client.revokeInstallations(createPrivateKeySigner(randomBytes(32)), alice.inboxId, [alice2.installationIdBytes], node.clientOptions),
      usage,
    );
    await assert.rejects(alice.revokeInstallations([stranger.installationIdBytes]), usage);
    await assert.rejects(alice.revokeInstallations([new Uint8Array(5)]), usage);
    const dir = mkdtempSync(join(tmpdir(), "parley-members-"));
    try {
      const dbPath = join(dir, "alice3.db");
      (await Client.create(signer, { ...node.clientOptions, dbPath })).close();
      const built = await Client.build((signer.getIdentifier() as { identifier: string }).identifier, { ...node.clientOptions, dbPath });
      await assert.rejects(built.revokeInstallations([alice2.installationIdBytes]), usage, "a built client holds no signer");
      built.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal((await installationIds(alice)).length, 3, "nothing was revoked");
    for (const c of [alice, alice2, stranger]) c.close();
  });

  it("the membership check adds a member's new installation after the send interval, and removes it once revoked", async () => {
    const clock = testClock();
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, nowNs: clock.nowNs });
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "installations" });
    await group.send("one");
    await bob.conversations.sync();
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup);
    await bobsGroup.sync();

    const bob2 = await Client.create(bobSigner, node.clientOptions);
    assert.equal(bob2.inboxId, bob.inboxId);
    const bobsInstallations = async () => (await group.members()).find((m) => m.inboxId === bob.inboxId)?.installationIds.sort();

    // Within 5 s of the last check, a send does not look.
    await group.send("two");
    assert.deepEqual(await bobsInstallations(), [bob.installationId]);

    clock.advanceSeconds(6);
    await group.send("three");
    assert.deepEqual(await bobsInstallations(), [bob.installationId, bob2.installationId].sort());
    await bob2.conversations.sync();
    const bob2sGroup = bob2.conversations.getConversationById(group.id);
    assert.ok(bob2sGroup, "bob's second installation joined from the welcome");
    await bob2sGroup.sync();
    assert.deepEqual((await bob2sGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["three"]);
    await bobsGroup.sync();
    assert.deepEqual((await bobsGroup.members()).find((m) => m.inboxId === bob.inboxId)?.installationIds.sort(), [bob.installationId, bob2.installationId].sort(), "bob accepted the commit");
    assert.deepEqual((await bobsGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["one", "two", "three"]);

    await bob.revokeInstallations([bob2.installationIdBytes]);
    clock.advanceSeconds(6);
    await group.send("four");
    assert.deepEqual(await bobsInstallations(), [bob.installationId], "the revoked leaf is gone");
    await bob2sGroup.sync();
    assert.equal(bob2sGroup.isActive, false);
    assert.deepEqual((await bob2sGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["three"], "the revoked installation reads nothing after");
    await bobsGroup.sync();
    assert.deepEqual((await bobsGroup.members()).find((m) => m.inboxId === bob.inboxId)?.installationIds, [bob.installationId]);
    assert.deepEqual((await bobsGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["one", "two", "three", "four"]);
    for (const c of [alice, bob, bob2]) c.close();
  });

  it("a send's check with nothing to change neither syncs nor commits, so junk on the topic costs it nothing", async () => {
    const clock = testClock();
    const calls: string[] = [];
    const counting: Interceptor = (next) => (request) => {
      calls.push(request.method.name);
      return next(request);
    };
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, nowNs: clock.nowNs, interceptors: [counting] });
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await group.send("one");
    const epoch = (await group.debugInfo()).epoch;

    clock.advanceSeconds(6);
    calls.length = 0;
    await group.send("two");
    assert.ok(calls.includes("GetIdentityUpdates"), `the check looked: ${calls.join(", ")}`);
    assert.ok(!calls.includes("QueryGroupMessages"), `and did not sync: ${calls.join(", ")}`);
    assert.equal((await group.debugInfo()).epoch, epoch, "nor commit");
    for (const c of [alice, bob]) c.close();
  });

  it("sync runs the check every 30 minutes", async () => {
    const clock = testClock();
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, nowNs: clock.nowNs });
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await group.sync();
    const bob2 = await Client.create(bobSigner, node.clientOptions);
    const count = async () => (await group.members()).find((m) => m.inboxId === bob.inboxId)?.installationIds.length;

    clock.advanceSeconds(29 * 60);
    await group.sync();
    assert.equal(await count(), 1, "not yet due");
    clock.advanceSeconds(2 * 60);
    await group.sync();
    assert.equal(await count(), 2, "due: bob's second installation is added");
    await bob2.conversations.sync();
    assert.ok(bob2.conversations.getConversationById(group.id));
    for (const c of [alice, bob, bob2]) c.close();
  });

  it("the time of the last check survives a restart: a reopened client does not check again before it is due", async () => {
    const clock = testClock();
    const aliceSigner = createPrivateKeySigner(randomBytes(32));
    const dir = mkdtempSync(join(tmpdir(), "parley-check-"));
    const dbPath = join(dir, "alice.db");
    const alice = await Client.create(aliceSigner, { ...node.clientOptions, nowNs: clock.nowNs, dbPath });
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await group.sync(); // the first check runs here
    alice.close();
    const bob2 = await Client.create(bobSigner, node.clientOptions);

    const reopened = await Client.create(aliceSigner, { ...node.clientOptions, nowNs: clock.nowNs, dbPath });
    const again = reopened.conversations.getConversationById(group.id);
    assert.ok(again);
    const count = async () => (await again.members()).find((m) => m.inboxId === bob.inboxId)?.installationIds.length;
    clock.advanceSeconds(60);
    await again.sync();
    assert.equal(await count(), 1, "checked a minute ago, before the restart: not due");
    clock.advanceSeconds(30 * 60);
    await again.sync();
    assert.equal(await count(), 2, "due: bob's second installation is added");
    for (const c of [reopened, bob, bob2]) c.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
