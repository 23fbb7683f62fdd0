// Conversations beyond one group, two or three
// Parley clients on a node in this process: the group updates each side
// lists; duplicate DMs created at the same time, stitched as the official
// client stitches them; conversation streams; streamAllMessages following a
// conversation joined while it runs; list options; the message helpers.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import { decodeGroupState, encodeGroupState, encryptMessage } from "@parley/mls";
import { encode, messageContents } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, groupMessageInput } from "./api/api-client.js";
import { isClientError } from "./client-error.js";
import { emptyGroupUpdated, encodeGroupUpdated } from "./content/group-updated-codec.js";
import { encodeEnvelope } from "./content/text-codec.js";
import { Client, ConversationType, Group, GroupMessageKind, type GroupUpdated } from "./index.js";
import { LocalStore } from "./store/local-store.js";

const updates = (ms: { content: unknown; kind: number }[]) => ms.filter((m) => m.kind === GroupMessageKind.MembershipChange).map((m) => m.content as GroupUpdated);
const texts = (ms: { content: unknown; kind: number }[]) => ms.filter((m) => m.kind === GroupMessageKind.Application).map((m) => m.content);

describe("@parley/client conversations", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  const clients: Client[] = [];
  const newClient = async () => {
    const c = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    clients.push(c);
    return c;
  };

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    for (const c of clients) c.close();
    await node.stop();
  });

  it("inbox ids from the app are checked before anything is sent: any case is taken, anything else is client.usage", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const usage = (e: unknown) => isClientError(e) && e.code === "client.usage";
    await assert.rejects(alice.conversations.createGroup(["not an inbox id"]), usage);
    await assert.rejects(alice.conversations.createDm(bob.inboxId.slice(1)), usage);
    const group = await alice.conversations.createGroup([bob.inboxId.toUpperCase()]);
    assert.deepEqual((await group.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId].sort());
    await assert.rejects(group.addMembers([`${bob.inboxId}0`]), usage);
    await assert.rejects(group.removeMembers([""]), usage);
    alice.close();
    bob.close();
  });

  it("group updates: the creator lists its add commit, the joiner its welcome; later commits are the same entry on both sides", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const carol = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId], { groupName: "one" });
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs instanceof Group);
    await bobs.updateName("two");
    await group.sync();
    await group.removeMembers([carol.inboxId]);
    await bobs.sync();

    const alices = await group.messages();
    const bobsList = await bobs.messages();
    assert.deepEqual(updates(alices)[0]?.addedInboxes.map((i) => i.inboxId).sort(), [bob.inboxId, carol.inboxId].sort());
    assert.equal(updates(alices)[0]?.initiatedByInboxId, alice.inboxId);
    assert.deepEqual(updates(bobsList)[0], {
      initiatedByInboxId: alice.inboxId,
      addedInboxes: [{ inboxId: bob.inboxId }],
      removedInboxes: [],
      leftInboxes: [],
      metadataFieldChanges: [],
      addedAdminInboxes: [],
      removedAdminInboxes: [],
      addedSuperAdminInboxes: [],
      removedSuperAdminInboxes: [],
    });
    assert.deepEqual(alices.slice(1), bobsList.slice(1).map((m) => ({ ...m, conversationId: group.id })));
    assert.deepEqual(
      alices.slice(1).map((m) => [m.senderInboxId, (m.content as GroupUpdated).metadataFieldChanges, (m.content as GroupUpdated).removedInboxes]),
      [
        [bob.inboxId, [{ fieldName: "group_name", oldValue: "one", newValue: "two" }], []],
        [alice.inboxId, [], [{ inboxId: carol.inboxId }]],
      ],
    );
    assert.deepEqual(await group.messages({ kind: GroupMessageKind.Application }), []);
    assert.equal(await group.countMessages(), 3);
    assert.equal((await group.lastMessage())?.id, alices[2]?.id);
    assert.equal(alice.conversations.getMessageById(alices[1]?.id ?? "")?.id, alices[1]?.id);
    assert.equal(alice.conversations.getMessageById("00".repeat(32)), undefined);
  });

  it("duplicate DMs made at the same time are stitched: one listed per peer, the most recently active, messages of both", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const [alicesOwn, bobsOwn] = await Promise.all([alice.conversations.createDm(bob.inboxId), bob.conversations.createDm(alice.inboxId)]);
    assert.notEqual(alicesOwn.id, bobsOwn.id, "two DMs exist");
    await alice.conversations.syncAll();
    await bob.conversations.syncAll();
    assert.equal(alice.conversations.listDms({ includeDuplicateDms: true }).length, 2);
    assert.equal(alice.conversations.listDms().length, 1);
    assert.equal(alice.conversations.list().length, 1);
    assert.deepEqual((await alicesOwn.duplicateDms()).map((d) => d.id), [bobsOwn.id]);

    await alicesOwn.send("in alice's DM");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bobsCopyOfAlices = bob.conversations.getConversationById(alicesOwn.id);
    assert.ok(bobsCopyOfAlices);
    await bobsCopyOfAlices.sync();
    const bobsOwnCopy = bob.conversations.getConversationById(bobsOwn.id);
    assert.ok(bobsOwnCopy);
    await bobsOwnCopy.send("in bob's DM");
    await alice.conversations.syncAll();

    const surfaced = alice.conversations.getDmByInboxId(bob.inboxId);
    assert.equal(surfaced?.id, bobsOwn.id, "the DM with the newest message");
    assert.deepEqual(alice.conversations.listDms().map((d) => d.id), [bobsOwn.id]);
    assert.equal(await alice.conversations.createDm(bob.inboxId), surfaced, "createDm reuses the surfaced DM");
    for (const dm of [alicesOwn, surfaced]) {
      assert.deepEqual(texts(await dm.messages()), ["in alice's DM", "in bob's DM"], "each duplicate reads the messages of both");
    }
  });

  it("conversations.stream() yields conversations joined or created while it runs, once; streamGroups and streamDms filter", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const all = bob.conversations.stream();
    const groups = bob.conversations.streamGroups();
    const dms = bob.conversations.streamDms();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const dm = await alice.conversations.createDm(bob.inboxId);
    const own = await bob.conversations.createGroup([], { groupName: "bob's own" });
    const seen = [(await all.next()).value?.id, (await all.next()).value?.id, (await all.next()).value?.id];
    assert.deepEqual([...seen].sort(), [group.id, dm.id, own.id].sort());
    assert.deepEqual([(await groups.next()).value?.id, (await groups.next()).value?.id].sort(), [group.id, own.id].sort());
    assert.equal((await dms.next()).value?.id, dm.id);
    const waiting = all.next();
    await all.return();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    await groups.return();
    await dms.return();
    assert.deepEqual(
      bob.conversations.list({ conversationType: ConversationType.Group }).map((g) => g.id).sort(),
      [group.id, own.id].sort(),
    );
    const createdNs = bob.conversations.getConversationById(own.id)?.createdAtNs ?? 0n;
    assert.deepEqual(bob.conversations.list({ createdAfterNs: createdNs - 1n }).map((g) => g.id), [own.id]);
    assert.equal(bob.conversations.list({ createdBeforeNs: createdNs }).length, 2);
    assert.equal(bob.conversations.list({ limit: 1 }).length, 1);
  });

  it("streamAllMessages follows a conversation joined while it runs", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const first = await alice.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const stream = bob.conversations.streamAllMessages();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await first.send("in the first group");
    assert.equal((await stream.next()).value?.content, "in the first group");
    const second = await alice.conversations.createGroup([bob.inboxId]);
    await second.send("in a group made after the stream started");
    const got = [];
    for (;;) {
      const m = (await stream.next()).value;
      if (m === undefined || m.kind === GroupMessageKind.Application) {
        got.push(m?.content);
        if (got.length === 1) break;
      }
    }
    assert.deepEqual(got, ["in a group made after the stream started"]);
    await first.send("and the first still follows");
    let next = (await stream.next()).value;
    while (next !== undefined && next.kind !== GroupMessageKind.Application) next = (await stream.next()).value;
    assert.equal(next?.content, "and the first still follows");
    await stream.return();
  });
});

describe("@parley/client group updates are never messages", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  before(() => {
    node = createInProcessTestNode();
  });
  after(async () => {
    await node.stop();
  });

  it("send refuses a group update; one forged as an application message is not listed, and the next message still is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-forged-update-"));
    try {
      const aliceSigner = createPrivateKeySigner(randomBytes(32));
      const aliceDb = join(dir, "alice.db");
      let alice = await Client.create(aliceSigner, { ...node.clientOptions, dbPath: aliceDb });
      const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
      const group = await alice.conversations.createGroup([bob.inboxId]);
      await bob.conversations.sync();
      const bobsGroup = bob.conversations.getConversationById(group.id);
      assert.ok(bobsGroup);
      const forged = { ...emptyGroupUpdated(alice.inboxId), addedInboxes: [{ inboxId: "f".repeat(64) }] };
      const encoded = encodeGroupUpdated(forged);
      assert.ok(encoded.type);
      await assert.rejects(group.send({ type: encoded.type, content: encoded.content }), (e) => isClientError(e) && e.code === "client.usage");
      alice.close();

      // Alice's installation, misbehaving: the update goes out as an application message.
      const store = new LocalStore(aliceDb);
      const row = store.group(group.groupIdBytes);
      assert.ok(row);
      const sent = await encryptMessage(decodeGroupState(row.state), encodeEnvelope(encode(messageContents.EncodedContentSchema, encoded), "1"));
      store.updateGroup(group.groupIdBytes, encodeGroupState(sent.state), row.cursor);
      store.close();
      await createApiClient(node.clientOptions).mls.sendGroupMessages({ messages: [groupMessageInput(sent.message, false)] });

      alice = await Client.create(aliceSigner, { ...node.clientOptions, dbPath: aliceDb });
      await alice.conversations.getConversationById(group.id)?.send("after the forgery");
      await bobsGroup.sync();
      const listed = await bobsGroup.messages();
      assert.deepEqual(listed.map((m) => m.kind), [GroupMessageKind.MembershipChange, GroupMessageKind.Application]);
      assert.deepEqual(updates(listed).map((u) => u.addedInboxes), [[{ inboxId: bob.inboxId }]], "only the welcome's entry");
      assert.deepEqual(texts(listed), ["after the forgery"]);
      alice.close();
      bob.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
