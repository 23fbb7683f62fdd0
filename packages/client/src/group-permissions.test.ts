// Admins, super admins and permission policies between Parley clients
// through a node in this process: what one member
// changes the others read; what the policy forbids is refused before it is
// published, with `client.permission_denied`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { Client, Dm, Group, GroupMessageKind, GroupPermissionsOptions, MetadataField, PermissionPolicy, PermissionUpdateType } from "./index.js";
import { isClientError, type ClientErrorCode } from "./client-error.js";

const rejectsWith = (promise: Promise<unknown>, code: ClientErrorCode) => assert.rejects(promise, (e) => isClientError(e) && e.code === code);

describe("@parley/client: group permissions", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  const clients: Client[] = [];

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    for (const c of clients) c.close();
    await node.stop();
  });

  const newClient = async () => {
    const c = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    clients.push(c);
    return c;
  };

  const joined = async (client: Client, id: string): Promise<Group> => {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group, "joined from the welcome");
    return group;
  };

  it("AdminOnly: members may not add, remove or rename; an admin named by the super admin may, and everyone follows", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const carol = await newClient();
    const dave = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId], { groupName: "closed", permissions: GroupPermissionsOptions.AdminOnly });
    const bobs = await joined(bob, group.id);
    const carols = await joined(carol, group.id);
    assert.equal(bobs.permissions().policyType, GroupPermissionsOptions.AdminOnly);
    assert.equal(bobs.permissions().policySet.addMemberPolicy, PermissionPolicy.Admin);

    await rejectsWith(bobs.addMembers([dave.inboxId]), "client.permission_denied");
    await rejectsWith(bobs.removeMembers([carol.inboxId]), "client.permission_denied");
    await rejectsWith(bobs.updateName("bob's"), "client.permission_denied");
    await rejectsWith(bobs.addAdmin(bob.inboxId), "client.permission_denied");

    await group.addAdmin(bob.inboxId);
    await bobs.sync();
    await carols.sync();
    assert.deepEqual(carols.listAdmins(), [bob.inboxId]);
    assert.ok(bobs.isAdmin(bob.inboxId) && !bobs.isSuperAdmin(bob.inboxId));

    await bobs.updateName("renamed by an admin");
    await bobs.addMembers([dave.inboxId]);
    await carols.sync();
    await group.sync();
    assert.equal(carols.name, "renamed by an admin");
    assert.equal(group.name, "renamed by an admin");
    assert.deepEqual((await carols.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId, carol.inboxId, dave.inboxId].sort());

    // Admins are not super admins: super admins and policies stay Alice's.
    await rejectsWith(bobs.addSuperAdmin(carol.inboxId), "client.permission_denied");
    await rejectsWith(bobs.updatePermission(PermissionUpdateType.AddMember, PermissionPolicy.Allow), "client.permission_denied");
    await rejectsWith(bobs.removeMembers([alice.inboxId]), "client.usage");

    await group.removeAdmin(bob.inboxId);
    await bobs.sync();
    assert.deepEqual(bobs.listAdmins(), []);
    await rejectsWith(bobs.updateName("no longer"), "client.permission_denied");
  });

  it("super admins: one adds another, who may then remove the first; the last one cannot go", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await rejectsWith(group.removeSuperAdmin(alice.inboxId), "client.permission_denied");
    await rejectsWith(group.addSuperAdmin(alice.inboxId), "client.usage");

    await group.addSuperAdmin(bob.inboxId);
    await bobs.sync();
    assert.deepEqual(bobs.listSuperAdmins().sort(), [alice.inboxId, bob.inboxId].sort());
    await bobs.removeSuperAdmin(alice.inboxId);
    await group.sync();
    assert.deepEqual(group.listSuperAdmins(), [bob.inboxId]);
    assert.equal(group.isSuperAdmin(alice.inboxId), false);
    await rejectsWith(group.updatePermission(PermissionUpdateType.AddMember, PermissionPolicy.Deny), "client.permission_denied");
  });

  it("updatePermission changes one slot for everyone, and the new policy holds on both sides", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "open" });
    const bobs = await joined(bob, group.id);
    await bobs.updateName("anyone may");
    await group.updatePermission(PermissionUpdateType.UpdateMetadata, PermissionPolicy.SuperAdmin, MetadataField.GroupName);
    await bobs.sync();
    const seen = bobs.permissions();
    assert.equal(seen.policyType, GroupPermissionsOptions.CustomPolicy);
    assert.equal(seen.policySet.updateGroupNamePolicy, PermissionPolicy.SuperAdmin);
    assert.equal(seen.policySet.updateGroupDescriptionPolicy, PermissionPolicy.Allow);
    await rejectsWith(bobs.updateName("not any more"), "client.permission_denied");
    await bobs.updateDescription("still open");
    await group.sync();
    assert.equal(group.description, "still open");
    assert.equal(group.name, "anyone may");
  });

  it("createGroup with a custom policy set: the joiner reads it back slot for slot", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const policySet = {
      addMemberPolicy: PermissionPolicy.SuperAdmin,
      removeMemberPolicy: PermissionPolicy.Deny,
      addAdminPolicy: PermissionPolicy.Admin,
      removeAdminPolicy: PermissionPolicy.SuperAdmin,
      updateGroupNamePolicy: PermissionPolicy.Deny,
      updateGroupDescriptionPolicy: PermissionPolicy.Allow,
      updateGroupImageUrlSquarePolicy: PermissionPolicy.Admin,
      updateMessageDisappearingPolicy: PermissionPolicy.Admin,
      updateAppDataPolicy: PermissionPolicy.Allow,
    };
    const group = await alice.conversations.createGroup([bob.inboxId], {
      permissions: GroupPermissionsOptions.CustomPolicy,
      customPermissionPolicySet: policySet,
    });
    const bobs = await joined(bob, group.id);
    assert.deepEqual(bobs.permissions(), { policyType: GroupPermissionsOptions.CustomPolicy, policySet });
    await rejectsWith(group.updateName("denied even to the super admin"), "client.permission_denied");
  });

  it("a DM: neither member may add a third inbox", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const dm = await alice.conversations.createDm(bob.inboxId);
    // The official SDK's Dm has no way to add members, and neither has ours
    // (the DM policies refuse such a commit before it is sent, too).
    assert.equal("addMembers" in dm, false);
    assert.equal((await dm.members()).length, 2);
    await dm.send("still a DM");
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(dm.id);
    assert.ok(bobs instanceof Dm, "joined from the welcome, as a DM");
    await bobs.sync();
    assert.deepEqual((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still a DM"]);
  });
});
