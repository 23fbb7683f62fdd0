// Security properties and bad input, against a
// node in this process: the node sees only ciphertext; welcomes that do not
// open are skipped without stopping the ones after them; a stranger's
// key package cannot be used to read a group.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createPrivateKeySigner } from "@parley/identity";
import { decodeGroupState, groupExtensions, updateMembership, validateKeyPackage } from "@parley/mls";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { mlsApi } from "@parley/proto";
import { createApiClient } from "./api/api-client.js";
import { Client, Group, GroupMessageKind } from "./index.js";
import { LocalStore } from "./store/local-store.js";
import { groupMessageInput } from "./api/api-client.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const contains = (haystack: Uint8Array, needle: Uint8Array) => Buffer.from(haystack).includes(Buffer.from(needle));

describe("@parley/client: what the node sees, and bad input", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    await node.stop();
  });

  const newClient = () => Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);

  it("the node stores only ciphertext: neither the text nor the group name appears in any envelope", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "NameThatMustStayPrivate" });
    await group.send("PlaintextThatMustStayPrivate");
    const api = createApiClient(node.clientOptions);
    const envelopes = (await api.mls.queryGroupMessages({ groupId: group.groupIdBytes })).messages.flatMap((m) =>
      m.version.case === "v1" ? [m.version.value.data] : [],
    );
    const welcomes = (await api.mls.queryWelcomeMessages({ installationKey: bob.installationIdBytes })).messages.flatMap((m) =>
      m.version.case === "v1" ? [m.version.value.data, m.version.value.welcomeMetadata] : [],
    );
    assert.equal(envelopes.length, 2, "the commit and the message");
    assert.equal(welcomes.length, 2, "one welcome and its metadata");
    for (const bytes of [...envelopes, ...welcomes]) {
      assert.ok(!contains(bytes, new TextEncoder().encode("PlaintextThatMustStayPrivate")));
      assert.ok(!contains(bytes, new TextEncoder().encode("NameThatMustStayPrivate")));
      assert.ok(!contains(bytes, new TextEncoder().encode(bob.inboxId)), "not even the members' inbox ids");
    }
    alice.close();
    bob.close();
  });

  it("a welcome that does not open is skipped, and the next one still joins", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const api = createApiClient(node.clientOptions);
    const fetched = (await api.mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0];
    assert.ok(fetched);
    const { initKey } = await validateKeyPackage(fetched.keyPackageTlsSerialized);
    const junk = (data: Uint8Array) =>
      create(mlsApi.WelcomeMessageInputSchema, {
        version: {
          case: "v1",
          value: { installationKey: bob.installationIdBytes, data, hpkePublicKey: initKey, wrapperAlgorithm: 1, welcomeMetadata: new Uint8Array(0) },
        },
      });
    // Random bytes, and a well-formed HPKE ciphertext shape that does not decrypt.
    const shaped = new Uint8Array([32, ...randomBytes(32), 64, ...randomBytes(64)]);
    await api.mls.sendWelcomeMessages({ messages: [junk(randomBytes(200)), junk(shaped)] });
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "after the junk" });

    await bob.conversations.sync();
    assert.deepEqual(bob.conversations.list().map((g) => g.id), [group.id]);
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs instanceof Group);
    assert.equal(bobs.name, "after the junk");
    await bob.conversations.sync();
    assert.equal(bob.conversations.list().length, 1, "nothing processed twice");
    alice.close();
    bob.close();
  });

  it("an installation that is not a member reads nothing: a third client's sync of the group finds no group", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const eve = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await group.send("for bob only");
    await eve.conversations.syncAll();
    assert.equal(eve.conversations.getConversationById(group.id), undefined);
    assert.equal(eve.conversations.list().length, 0);
    alice.close();
    bob.close();
    eve.close();
  });

  it("a member's commit that adds an installation without naming its inbox in the membership map is not applied", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-security-"));
    try {
      const aliceSigner = createPrivateKeySigner(randomBytes(32));
      const aliceDb = join(dir, "alice.db");
      let alice = await Client.create(aliceSigner, { ...node.clientOptions, dbPath: aliceDb });
      const bob = await newClient();
      const eve = await newClient();
      const group = await alice.conversations.createGroup([bob.inboxId]);
      await bob.conversations.sync();
      const bobsGroup = bob.conversations.getConversationById(group.id);
      assert.ok(bobsGroup);
      alice.close();

      // Alice's installation, misbehaving: Eve's installation goes into the
      // tree, the 0xFF01 map stays as it was.
      const store = new LocalStore(aliceDb);
      const row = store.group(group.groupIdBytes);
      assert.ok(row);
      const state = decodeGroupState(row.state);
      store.close();
      const api = createApiClient(node.clientOptions);
      const evesKp = (await api.mls.fetchKeyPackages({ installationKeys: [eve.installationIdBytes] })).keyPackages[0];
      assert.ok(evesKp);
      const bad = await updateMembership(state, {
        add: [evesKp.keyPackageTlsSerialized],
        membership: groupExtensions(state).membership,
        authenticate: () => true,
      });
      await api.mls.sendGroupMessages({ messages: [groupMessageInput(bad.commit, false)] });

      await bobsGroup.sync();
      assert.deepEqual((await bobsGroup.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId].sort());
      // Bob stayed on the old epoch: a message Alice sends there still reads.
      alice = await Client.create(aliceSigner, { ...node.clientOptions, dbPath: aliceDb });
      await alice.conversations.getConversationById(group.id)?.send("still on the old epoch");
      await bobsGroup.sync();
      assert.deepEqual((await bobsGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still on the old epoch"]);
      alice.close();
      bob.close();
      eve.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
