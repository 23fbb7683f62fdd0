// A commit or welcome whose membership names more inboxes than a group may
// hold (MAX_GROUP_INBOXES, XMTP's 250) is refused before any of them is
// looked up: one member cannot make every other member look up thousands
// of inboxes, nor stall the group on inboxes that have no log.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { groupExtensions, MAX_GROUP_INBOXES, updateGroupExtensions } from "@parley/mls";
import type { identityApi } from "@parley/proto";
import { publish, recorder, refusedAt, storedGroup, testWorld } from "./client-fixtures.test-util.js";
import { decodeMembership, encodeMembership } from "./conversations/group-metadata.js";
import { Client, Group, GroupMessageKind, isClientError } from "./index.js";

describe("@parley/client: a group holds at most 250 inboxes", { timeout: 60_000 }, () => {
  const world = testWorld("group-size");

  const fakeInbox = () => randomBytes(32).toString("hex");

  it("a commit naming 300 inboxes is refused before any of them is looked up, and the group goes on", async () => {
    const looked = new Set<string>();
    const watch: Interceptor = (next) => (request) => {
      if (request.method.name === "GetIdentityUpdates") {
        for (const r of (request.message as identityApi.GetIdentityUpdatesRequest).requests) looked.add(r.inboxId);
      }
      return next(request);
    };
    const log = recorder();
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), world.node.clientOptions);
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...world.node.clientOptions, logger: log, interceptors: [watch] });
    const malloryDb = join(world.dir, "mallory.db");
    const mallory = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...world.node.clientOptions, dbPath: malloryDb });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId]);
    await bob.conversations.sync();
    await mallory.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs instanceof Group);
    await bobs.sync();

    // Mallory, a member, signs a commit whose 0xFF01 names 300 more inboxes.
    const state = storedGroup(malloryDb, group.groupIdBytes);
    const members = decodeMembership(groupExtensions(state).membership);
    const fakes = Array.from({ length: 300 }, fakeInbox);
    for (const inbox of fakes) members.set(inbox, 1n);
    const forged = await updateGroupExtensions(state, { membership: encodeMembership(members) }, () => true);
    const cursor = await publish(world.api, group.groupIdBytes, forged.commit);

    await bobs.sync();
    const entry = refusedAt(log, "refused.commit", cursor);
    assert.match(String(entry.fields["reason"]), /more than 250 inboxes/);
    assert.equal(fakes.filter((inbox) => looked.has(inbox)).length, 0, "none of the 300 was looked up");
    await group.send("still here");
    await bobs.sync();
    assert.ok((await bobs.messages({ kind: GroupMessageKind.Application })).some((m) => m.content === "still here"));
    for (const c of [alice, bob, mallory]) c.close();
  });

  it("our own createGroup and addMembers past 250 inboxes are client.usage, before anything is sent", async () => {
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), world.node.clientOptions);
    const usage = (e: unknown) => isClientError(e) && e.code === "client.usage";
    await assert.rejects(alice.conversations.createGroup(Array.from({ length: MAX_GROUP_INBOXES }, fakeInbox)), usage);
    const group = await alice.conversations.createGroup([]);
    await assert.rejects(group.addMembers(Array.from({ length: MAX_GROUP_INBOXES }, fakeInbox)), usage);
    alice.close();
  });
});
