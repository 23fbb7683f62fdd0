// A DM is a DM only between the two inboxes it names
// (conversations/dm-validation.ts; ../shared/spec/xmtp-client.md sections
// 2.5 step 4 and 3.2), through a node in this process. Each "DM" is built by
// hand with @parley/mls from its maker's own installation key, so it is
// exactly what a misbehaving client could send: a stranger naming Alice and
// Bob and sitting in it, the named peer bringing a third inbox in, the named
// peer giving it policies that would let one in later. Each welcome is
// refused with `refused.welcome`, and createDm, getDmByInboxId and the lists
// still give the real DM.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createPrivateKeySigner } from "@parley/identity";
import { encodeGroupState, joinFromWelcome, privateInitKey, unwrapWelcome } from "@parley/mls";
import { encode, messageContents as mc } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { encodePermissions, newDmExtensions } from "./conversations/group-metadata.js";
import { makerOf, sendForgedWelcome } from "./forged-welcome.test-util.js";
import { Client, Dm, type ClientLogger } from "./index.js";
import { LocalStore } from "./store/local-store.js";
import { recorder, refusedWelcomes } from "./client-fixtures.test-util.js";




describe("@parley/client: a DM is only a DM between its two members", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-dm-integrity-"));
  let node: InProcessTestNode;
  let api: ApiClient;
  const open: Client[] = [];

  before(() => {
    node = createInProcessTestNode();
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    for (const c of open) c.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const dbNames = new Map<Client, string>();
  const dbOf = (c: Client) => join(dir, dbNames.get(c)!);
  const signers = new Map<Client, ReturnType<typeof createPrivateKeySigner>>();
  const named = async (name: string, logger?: ClientLogger) => {
    const file = `${name}-${randomBytes(4).toString("hex")}.db`;
    const signer = createPrivateKeySigner(randomBytes(32));
    const c = await Client.create(signer, {
      ...node.clientOptions,
      dbPath: join(dir, file),
      ...(logger === undefined ? {} : { logger }),
    });
    open.push(c);
    dbNames.set(c, file);
    signers.set(c, signer);
    return c;
  };

  /** Alice and Bob with a real DM, joined on both sides. */
  const realDm = async (aliceLog: ClientLogger, bobLog: ClientLogger) => {
    const alice = await named("alice", aliceLog);
    const bob = await named("bob", bobLog);
    const dm = await alice.conversations.createDm(bob.inboxId);
    await bob.conversations.sync();
    assert.equal(bob.conversations.getDmByInboxId(alice.inboxId)?.id, dm.id);
    return { alice, bob, dm };
  };

  /** Neither side sees any DM but the real one, by any door. */
  const onlyTheRealDm = async (alice: Client, bob: Client, id: string) => {
    for (const [me, peer] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      assert.equal(me.conversations.getDmByInboxId(peer.inboxId)?.id, id);
      assert.deepEqual(me.conversations.listDms({ includeDuplicateDms: true }).map((d) => d.id), [id]);
      assert.deepEqual(me.conversations.list({ includeDuplicateDms: true }).map((c) => c.id), [id]);
      const found = await me.conversations.createDm(peer.inboxId);
      assert.equal(found.id, id);
      assert.ok(found instanceof Dm);
      assert.deepEqual(await found.duplicateDms(), []);
    }
  };

  it("a stranger's DM naming Alice and Bob, with the stranger in it, is refused by both; the real DM stays theirs", async () => {
    const aliceLog = recorder();
    const bobLog = recorder();
    const { alice, bob, dm } = await realDm(aliceLog, bobLog);
    const mallory = await named("mallory");
    // Without the check this DM would be newest (its welcome is later) and
    // so the one getDmByInboxId and createDm return, with Mallory reading.
    await sendForgedWelcome(api, makerOf(mallory.inboxId, dbOf(mallory)), newDmExtensions(alice.inboxId, bob.inboxId), [alice, bob]);
    await alice.conversations.sync();
    await bob.conversations.sync();
    assert.deepEqual(refusedWelcomes(aliceLog), ["an inbox in the DM that it does not name"]);
    assert.deepEqual(refusedWelcomes(bobLog), ["an inbox in the DM that it does not name"]);
    await onlyTheRealDm(alice, bob, dm.id);
  });

  it("Bob's DM with Alice that also holds Mallory is refused (libxmtp would take it: the pair is right)", async () => {
    const aliceLog = recorder();
    const { alice, bob, dm } = await realDm(aliceLog, recorder());
    const mallory = await named("mallory");
    await sendForgedWelcome(api, makerOf(bob.inboxId, dbOf(bob)), newDmExtensions(bob.inboxId, alice.inboxId), [alice, mallory]);
    await alice.conversations.sync();
    assert.deepEqual(refusedWelcomes(aliceLog), ["an inbox in the DM that it does not name"]);
    assert.deepEqual(alice.conversations.listDms({ includeDuplicateDms: true }).map((d) => d.id), [dm.id]);
    assert.equal(alice.conversations.getDmByInboxId(bob.inboxId)?.id, dm.id);
  });

  it("Bob's DM with Alice whose policies let members in, or that has an admin, is refused", async () => {
    const aliceLog = recorder();
    const { alice, bob, dm } = await realDm(aliceLog, recorder());
    const maker = makerOf(bob.inboxId, dbOf(bob));
    const open = newDmExtensions(bob.inboxId, alice.inboxId);
    const policies = create(mc.PolicySetSchema, {
      addMemberPolicy: { kind: { case: "base", value: mc.MembershipPolicy_BasePolicy.ALLOW } },
      removeMemberPolicy: { kind: { case: "base", value: mc.MembershipPolicy_BasePolicy.DENY } },
      addAdminPolicy: { kind: { case: "base", value: mc.PermissionsUpdatePolicy_PermissionsBasePolicy.DENY } },
      removeAdminPolicy: { kind: { case: "base", value: mc.PermissionsUpdatePolicy_PermissionsBasePolicy.DENY } },
      updatePermissionsPolicy: { kind: { case: "base", value: mc.PermissionsUpdatePolicy_PermissionsBasePolicy.DENY } },
    });
    await sendForgedWelcome(api, maker, { ...open, permissions: encodePermissions(policies) }, [alice]);
    const admin = newDmExtensions(bob.inboxId, alice.inboxId);
    const withAdmin = create(mc.GroupMutableMetadataV1Schema, {
      attributes: { group_name: "", description: "", group_image_url_square: "", app_data: "" },
      adminList: { inboxIds: [] },
      superAdminList: { inboxIds: [bob.inboxId] },
    });
    await sendForgedWelcome(api, maker, { ...admin, mutableMetadata: encode(mc.GroupMutableMetadataV1Schema, withAdmin) }, [alice]);
    await alice.conversations.sync();
    assert.deepEqual(refusedWelcomes(aliceLog), ["the DM's policies are not the DM policies", "a DM with admins"]);
    assert.deepEqual(alice.conversations.listDms({ includeDuplicateDms: true }).map((d) => d.id), [dm.id]);
  });

  it("a DM naming us and someone other than the inbox that added us is refused", async () => {
    const aliceLog = recorder();
    const { alice, bob, dm } = await realDm(aliceLog, recorder());
    const carol = await named("carol");
    // Bob makes a DM that claims to be between Alice and Carol.
    await sendForgedWelcome(api, makerOf(bob.inboxId, dbOf(bob)), newDmExtensions(carol.inboxId, alice.inboxId), [alice], {
      mapped: [bob.inboxId, alice.inboxId],
    });
    await alice.conversations.sync();
    assert.equal(refusedWelcomes(aliceLog).length, 1);
    assert.equal(alice.conversations.getDmByInboxId(carol.inboxId), undefined);
    assert.deepEqual(alice.conversations.listDms({ includeDuplicateDms: true }).map((d) => d.id), [dm.id]);
  });

  it("a bogus DM a store already holds (joined before DMs were checked) is not a DM: not listed, not stitched, not returned", async () => {
    const { alice, bob, dm } = await realDm(recorder(), recorder());
    const mallory = await named("mallory");
    const forged = await sendForgedWelcome(api, makerOf(mallory.inboxId, dbOf(mallory)), newDmExtensions(alice.inboxId, bob.inboxId), [alice]);
    // What a client without the check did with it: joined and stored it.
    alice.close();
    const store = new LocalStore(dbOf(alice));
    try {
      const w = (await api.mls.queryWelcomeMessages({ installationKey: alice.installationIdBytes })).messages
        .flatMap((m) => (m.version.case === "v1" ? [m.version.value] : []))
        .sort((a, b) => Number(b.id - a.id))[0];
      assert.ok(w);
      const keys = store.keyPackage(w.hpkePublicKey);
      assert.ok(keys);
      const { state } = await joinFromWelcome({
        welcome: unwrapWelcome(w, privateInitKey(keys.privateKeyPackage)).welcome,
        keyPackage: keys.keyPackage,
        privateKeyPackage: keys.privateKeyPackage,
        authenticate: () => true,
      });
      assert.deepEqual(state.groupId, forged);
      store.insertGroup({ groupId: state.groupId, state: encodeGroupState(state), cursor: 0n, createdNs: w.createdNs, addedByInboxId: mallory.inboxId });
      store.setWelcomeCursor(w.id);
    } finally {
      store.close();
    }
    const reopened = await Client.create(signers.get(alice)!, { ...node.clientOptions, dbPath: dbOf(alice) });
    open.push(reopened);
    assert.equal(reopened.conversations.getDmByInboxId(bob.inboxId)?.id, dm.id);
    assert.deepEqual(reopened.conversations.listDms({ includeDuplicateDms: true }).map((d) => d.id), [dm.id]);
    assert.deepEqual(reopened.conversations.list({ includeDuplicateDms: true }).map((c) => c.id), [dm.id]);
    assert.equal((await reopened.conversations.createDm(bob.inboxId)).id, dm.id);
    const held = reopened.conversations.getConversationById(Buffer.from(forged).toString("hex"));
    assert.ok(held !== undefined && !(held instanceof Dm));
  });
});
