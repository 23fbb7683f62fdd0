// The receiver's membership rules against commits a misbehaving member
// builds by hand (../shared/spec/xmtp-client.md
// section 3.5 rules 3 and 4): installations added outside the expected
// diff and revoked installations left in place are refused, and the group
// goes on; a commit is judged at the group's pinned sequence id, not the
// latest one.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner, type Signer } from "@parley/identity";
import { create } from "@bufbuild/protobuf";
import { decodeGroupState, groupExtensions, groupMembers as groupMembersOf, updateMembership, wrapWelcome, type GroupState } from "@parley/mls";
import { mlsApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, groupMessageInput } from "./api/api-client.js";
import { encodeMembership } from "./conversations/group-metadata.js";
import { decodeMembershipMap } from "./conversations/membership-rules.js";
import { fetchInboxHistories } from "./identity/inbox-history.js";
import { Client, Group, GroupMessageKind } from "./index.js";
import { LocalStore } from "./store/local-store.js";

const installationsOf = async (group: { members(): Promise<{ inboxId: string; installationIds: string[] }[]> }, inboxId: string) =>
  (await group.members()).find((m) => m.inboxId === inboxId)?.installationIds.sort();

describe("@parley/client: membership commits checked against identity", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  const dir = mkdtempSync(join(tmpdir(), "parley-membership-rules-"));

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Alice's stored state of the group, read while her client is closed. */
  function storedState(dbPath: string, groupId: Uint8Array): GroupState {
    const store = new LocalStore(dbPath);
    const row = store.group(groupId);
    store.close();
    assert.ok(row);
    return decodeGroupState(row.state);
  }

  async function publish(commit: Uint8Array) {
    await createApiClient(node.clientOptions).mls.sendGroupMessages({ messages: [groupMessageInput(commit, false)] });
  }

  async function aliceWithDb(name: string): Promise<{ signer: Signer; dbPath: string; client: Client }> {
    const signer = createPrivateKeySigner(randomBytes(32));
    const dbPath = join(dir, `${name}.db`);
    return { signer, dbPath, client: await Client.create(signer, { ...node.clientOptions, dbPath }) };
  }

  it("a commit that adds an installation the inbox's pinned state does not have is refused", async () => {
    const alice = await aliceWithDb("adds");
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const group = await alice.client.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup);
    // Bob's own membership check runs now, so that it is not due when the
    // bad commit arrives (it would add bob2 rightly, by its own commit).
    await bobsGroup.sync();
    const bob2 = await Client.create(bobSigner, node.clientOptions);
    alice.client.close();

    // Bob's second installation into the tree, Bob's pin left where it was:
    // the installation is Bob's, but not at the sequence id the group holds.
    const state = storedState(alice.dbPath, group.groupIdBytes);
    const bob2sKp = (await createApiClient(node.clientOptions).mls.fetchKeyPackages({ installationKeys: [bob2.installationIdBytes] })).keyPackages[0];
    assert.ok(bob2sKp);
    const bad = await updateMembership(state, {
      add: [bob2sKp.keyPackageTlsSerialized],
      membership: groupExtensions(state).membership,
      authenticate: () => true,
    });
    await publish(bad.commit);

    await bobsGroup.sync();
    assert.deepEqual(await installationsOf(bobsGroup, bob.inboxId), [bob.installationId], "the commit was not applied");
    const aliceAgain = await Client.create(alice.signer, { ...node.clientOptions, dbPath: alice.dbPath });
    await aliceAgain.conversations.getConversationById(group.id)?.send("still one group");
    await bobsGroup.sync();
    assert.deepEqual((await bobsGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still one group"]);
    for (const c of [aliceAgain, bob, bob2]) c.close();
  });

  it("a commit that re-pins an inbox past a revocation without removing the revoked installation is refused", async () => {
    const alice = await aliceWithDb("omits");
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const bob2 = await Client.create(bobSigner, node.clientOptions);
    const carol = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.client.conversations.createGroup([bob.inboxId, carol.inboxId]);
    await carol.conversations.sync();
    const carolsGroup = carol.conversations.getConversationById(group.id);
    assert.ok(carolsGroup);
    await carolsGroup.sync(); // Carol's membership check is done: not due again in this test.
    assert.deepEqual(await installationsOf(carolsGroup, bob.inboxId), [bob.installationId, bob2.installationId].sort());
    await bob.revokeInstallations([bob2.installationIdBytes]);
    alice.client.close();

    const state = storedState(alice.dbPath, group.groupIdBytes);
    const map = decodeMembershipMap(groupExtensions(state).membership);
    const latest = (await fetchInboxHistories(createApiClient(node.clientOptions), [bob.inboxId])).get(bob.inboxId)?.latest.sequenceId;
    assert.ok(latest !== undefined && latest > (map.members.get(bob.inboxId) ?? 0n));
    const bad = await updateMembership(state, {
      membership: encodeMembership(new Map([...map.members, [bob.inboxId, latest]])),
      authenticate: () => true,
    });
    await publish(bad.commit);
    await carolsGroup.sync();

    // Alice, honest again, makes the right commit on the same epoch: only a
    // receiver that refused the bad one can apply it.
    const aliceAgain = await Client.create(alice.signer, { ...node.clientOptions, dbPath: alice.dbPath });
    const alicesGroup = aliceAgain.conversations.getConversationById(group.id);
    assert.ok(alicesGroup instanceof Group);
    await alicesGroup.send("bob2 is out");
    assert.deepEqual(await installationsOf(alicesGroup, bob.inboxId), [bob.installationId]);
    await carolsGroup.sync();
    assert.deepEqual(await installationsOf(carolsGroup, bob.inboxId), [bob.installationId], "carol followed the right commit");
    assert.deepEqual((await carolsGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["bob2 is out"]);
    for (const c of [aliceAgain, bob, bob2, carol]) c.close();
  });

  it("a revoked installation's commit applies while the group still pins its inbox before the revocation, as libxmtp", async () => {
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const bob2 = await Client.create(bobSigner, node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await bob2.conversations.sync();
    const bob2sGroup = bob2.conversations.getConversationById(group.id);
    assert.ok(bob2sGroup instanceof Group);
    await bob.revokeInstallations([bob2.installationIdBytes]);

    await bob2sGroup.updateName("renamed by bob2");
    await group.sync();
    assert.equal(group.name, "renamed by bob2", "judged at the pinned sequence id, where bob2 is bob's");
    // The same sync ran the membership check, which takes bob2 out.
    assert.deepEqual(await installationsOf(group, bob.inboxId), [bob.installationId]);
    for (const c of [alice, bob, bob2]) c.close();
  });

  it("a welcome whose tree leaves out an installation of a member inbox is refused (spec 2.5)", async () => {
    const alice = await aliceWithDb("welcome");
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bob = await Client.create(bobSigner, node.clientOptions);
    const bob2 = await Client.create(bobSigner, node.clientOptions);
    const group = await alice.client.conversations.createGroup([]);
    alice.client.close();

    // Only bob's first installation, with bob pinned at a state that has
    // both and nothing listed as failed.
    const api = createApiClient(node.clientOptions);
    const state = storedState(alice.dbPath, group.groupIdBytes);
    const histories = await fetchInboxHistories(api, [alice.client.inboxId, bob.inboxId]);
    const pin = (id: string) => histories.get(id)?.latest.sequenceId ?? 0n;
    const bobsKp = (await api.mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0];
    assert.ok(bobsKp);
    const bad = await updateMembership(state, {
      add: [bobsKp.keyPackageTlsSerialized],
      membership: encodeMembership(new Map([[alice.client.inboxId, pin(alice.client.inboxId)], [bob.inboxId, pin(bob.inboxId)]])),
      authenticate: () => true,
    });
    await publish(bad.commit);
    const added = bad.added[0];
    assert.ok(bad.welcome !== undefined && added !== undefined);
    const wrapped = wrapWelcome(bad.welcome, added.initKey, 0n);
    await api.mls.sendWelcomeMessages({
      messages: [
        create(mlsApi.WelcomeMessageInputSchema, {
          version: {
            case: "v1",
            value: {
              installationKey: bob.installationIdBytes,
              data: wrapped.data,
              hpkePublicKey: wrapped.hpkePublicKey,
              wrapperAlgorithm: wrapped.wrapperAlgorithm,
              welcomeMetadata: wrapped.welcomeMetadata,
            },
          },
        }),
      ],
    });

    await bob.conversations.sync();
    assert.equal(bob.conversations.getConversationById(group.id), undefined, "the welcome was dropped");
    // The right welcome still joins: Alice, honest, adds bob with both installations.
    const aliceAgain = await Client.create(alice.signer, { ...node.clientOptions, dbPath: alice.dbPath });
    const alicesGroup = aliceAgain.conversations.getConversationById(group.id);
    assert.ok(alicesGroup instanceof Group);
    await alicesGroup.addMembers([bob.inboxId]);
    await bob.conversations.sync();
    await bob2.conversations.sync();
    assert.ok(bob.conversations.getConversationById(group.id), "the right welcome joins");
    assert.ok(bob2.conversations.getConversationById(group.id));
    for (const c of [aliceAgain, bob, bob2]) c.close();
  });

  it("an installation removed and added back in one commit is refused from a member, applied from a super admin", async () => {
    const alice = await aliceWithDb("readd-alice");
    const carol = await aliceWithDb("readd-carol");
    const refusals: string[] = [];
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const daveDb = join(dir, "readd-dave.db");
    const dave = await Client.create(createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      dbPath: daveDb,
      logger: { warn: (fields) => refusals.push(String(fields["reason"])) },
    });
    const group = await alice.client.conversations.createGroup([bob.inboxId, carol.client.inboxId, dave.inboxId]);
    for (const c of [bob, carol.client, dave]) await c.conversations.sync();
    const davesGroup = dave.conversations.getConversationById(group.id);
    assert.ok(davesGroup);
    await davesGroup.sync();
    const davesEpoch = () => storedState(daveDb, group.groupIdBytes).epoch;

    const bobsKeyPackage = async () => {
      const kp = (await createApiClient(node.clientOptions).mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0];
      assert.ok(kp);
      return kp.keyPackageTlsSerialized;
    };
    const readdBob = async (state: GroupState) => {
      const bobsLeaf = groupMembersOf(state).find((m) => m.inboxId === bob.inboxId);
      assert.ok(bobsLeaf);
      return updateMembership(state, {
        add: [await bobsKeyPackage()],
        remove: [bobsLeaf.installationKey],
        membership: groupExtensions(state).membership,
        authenticate: () => true,
      });
    };

    // Carol, a plain member, re-adds Bob: Dave refuses it and stays on his epoch.
    carol.client.close();
    const byCarol = await readdBob(storedState(carol.dbPath, group.groupIdBytes));
    const epochBefore = davesEpoch();
    await publish(byCarol.commit);
    await davesGroup.sync();
    assert.equal(davesEpoch(), epochBefore, "not applied");
    assert.ok(refusals.some((r) => r.includes("not a super admin")), `refused as a re-add by a member; log: ${refusals.join("; ")}`);
    await group.send("still one group");
    await davesGroup.sync();
    assert.deepEqual((await davesGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still one group"]);

    // Alice, the super admin, may: Dave applies it.
    alice.client.close();
    const refusedBefore = refusals.length;
    const byAlice = await readdBob(storedState(alice.dbPath, group.groupIdBytes));
    await publish(byAlice.commit);
    await davesGroup.sync();
    assert.equal(refusals.length, refusedBefore, "the super admin's re-add is not refused");
    assert.equal(davesEpoch(), epochBefore + 1n, "applied");
    for (const c of [bob, dave]) c.close();
  });
});
