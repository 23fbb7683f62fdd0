// Admins, super admins and permission policies between the Parley client
// and the official @xmtp/node-sdk 5.5.0, through a Parley node in this
// process: Parley's admin-list commits reach the
// official client, the official client's admin and policy commits reach
// Parley, and Parley reads the official presets as the official SDK names
// them. Parley's enum values are the node bindings' (passed across as is).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  Client as ParleyClient,
  GroupPermissionsOptions,
  isClientError,
  MetadataField,
  PermissionPolicy,
  PermissionUpdateType,
  Group as ParleyGroup,
} from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";


describe("permissions between Parley and the official client", { timeout: 120_000 }, () => {
  let node: RunningNode;
  let official: Client;
  let parley: ParleyClient;

  before(async () => {
    node = await startTestNode();
    useNodeForOfficial(node);
    official = await Client.create(officialSigner(createTestWallet()), options as never);
    parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
  });

  after(async () => {
    parley.close();
    await node.stop();
  });

  const parleysCopy = async (id: string): Promise<ParleyGroup> => {
    await parley.conversations.sync();
    const group = parley.conversations.getConversationById(id);
    assert.ok(group instanceof ParleyGroup, "Parley joined from the official client's welcome");
    await group.sync();
    return group;
  };

  it("Parley's addAdmin and addSuperAdmin reach the official client", async () => {
    const group = await parley.conversations.createGroup([official.inboxId], { groupName: "Parley's" });
    await official.conversations.sync();
    const officials = await official.conversations.getConversationById(group.id);
    assert.ok(officials && "listAdmins" in officials);

    await group.addAdmin(official.inboxId);
    await officials.sync();
    assert.deepEqual(officials.listAdmins(), [official.inboxId]);
    assert.ok(officials.isAdmin(official.inboxId));

    await group.addSuperAdmin(official.inboxId);
    await officials.sync();
    assert.deepEqual(officials.listSuperAdmins().sort(), [official.inboxId, parley.inboxId].sort());
    // Now a super admin there, the official client's own rename goes through both sides.
    await officials.updateName("renamed by the new super admin");
    await group.sync();
    assert.equal(group.name, "renamed by the new super admin");
    assert.equal(officials.permissions().policyType, GroupPermissionsOptions.Default as never);
  });

  it("the official client's addAdmin and updatePermission reach Parley, and Parley keeps to the new policy", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "official" });
    const parleys = await parleysCopy(group.id);
    assert.equal(parleys.permissions().policyType, GroupPermissionsOptions.Default, "the official default set reads as Default");
    assert.deepEqual(parleys.listSuperAdmins(), [official.inboxId]);

    await group.addAdmin(parley.inboxId);
    await parleys.sync();
    assert.deepEqual(parleys.listAdmins(), [parley.inboxId]);

    await group.updatePermission(PermissionUpdateType.UpdateMetadata, PermissionPolicy.SuperAdmin, MetadataField.GroupName);
    await group.updatePermission(PermissionUpdateType.AddMember, PermissionPolicy.Admin);
    await parleys.sync();
    const seen = parleys.permissions();
    assert.equal(seen.policyType, GroupPermissionsOptions.CustomPolicy);
    assert.deepEqual(seen.policySet, group.permissions().policySet, "slot for slot as the official client reads its own set");
    assert.equal(seen.policySet.updateGroupNamePolicy, PermissionPolicy.SuperAdmin);
    assert.equal(seen.policySet.addMemberPolicy, PermissionPolicy.Admin);

    await assert.rejects(parleys.updateName("an admin is not enough"), (e) => isClientError(e) && e.code === "client.permission_denied");
    await parleys.updateDescription("descriptions stay open");
    await group.sync();
    assert.equal(group.description, "descriptions stay open");
  });

  it("an official AdminOnly group reads as AdminOnly, and a plain member's changes are refused before sending", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { permissions: GroupPermissionsOptions.AdminOnly as never });
    const parleys = await parleysCopy(group.id);
    assert.equal(parleys.permissions().policyType, GroupPermissionsOptions.AdminOnly);
    assert.deepEqual(parleys.permissions().policySet, group.permissions().policySet);
    await assert.rejects(parleys.updateName("not an admin"), (e) => isClientError(e) && e.code === "client.permission_denied");
    await parleys.send("messages are still fine");
    await group.sync();
    assert.ok((await group.messages()).some((m) => m.content === "messages are still fine"));
  });
});
