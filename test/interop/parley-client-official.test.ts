// The Parley client and the official @xmtp/node-sdk 5.5.0 in the same
// groups, through a Parley node in this process (issue 6 point 10): the
// official client creates a group with a Parley client in it, Parley reads
// and replies, the official client reads the reply; then Parley creates a
// group with the official client in it and messages go both ways.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client as ParleyClient, ReactionAction, ReactionSchema, type Reaction } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { ApiUrls, Client, encodeText, type DecodedMessage, type Group } from "@xmtp/node-sdk";

const options = { env: "local", dbPath: null, disableDeviceSync: true, loggingLevel: "Off" } as const;

const texts = (messages: DecodedMessage[]) => messages.flatMap((m) => (typeof m.content === "string" ? [m.content] : []));

describe("the Parley client beside the official client", { timeout: 120_000 }, () => {
  let node: RunningNode;
  let official: Client;
  let parley: ParleyClient;

  before(async () => {
    node = await startTestNode();
    (ApiUrls as Record<string, string>).local = node.url;
    official = await Client.create(officialSigner(createTestWallet()), options as never);
    parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
  });

  after(async () => {
    parley.close();
    await node.stop();
  });

  it("the official client finds the Parley inbox and its installation", async () => {
    const [state] = await official.preferences.fetchInboxStates([parley.inboxId]);
    assert.equal(state?.inboxId, parley.inboxId);
    assert.deepEqual(state.installations.map((i) => i.id), [parley.installationId]);
  });

  it("the official client creates a group with Parley in it: Parley reads and replies, the official client reads", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "made by the official client" });
    await group.sendText("hello from the official client");

    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup, "Parley joined from the official client's welcome");
    assert.equal(parleysGroup.name, "made by the official client");
    await parleysGroup.sync();
    assert.deepEqual(
      (await parleysGroup.messages()).map((m) => [m.content, m.senderInboxId]),
      [["hello from the official client", official.inboxId]],
    );
    assert.deepEqual((await parleysGroup.members()).map((m) => m.inboxId).sort(), [official.inboxId, parley.inboxId].sort());

    const sentId = await parleysGroup.send("hello back from Parley");
    await group.sync();
    const read = await group.messages();
    assert.ok(texts(read).includes("hello back from Parley"), `official read: ${JSON.stringify(texts(read))}`);
    const fromParley = read.find((m) => m.content === "hello back from Parley");
    assert.equal(fromParley?.senderInboxId, parley.inboxId);
    assert.equal(fromParley.id, sentId, "the official client computes the same message id");
    const officialsFirst = read.find((m) => m.content === "hello from the official client");
    const parleysFirst = (await parleysGroup.messages()).find((m) => m.content === "hello from the official client");
    assert.equal(parleysFirst?.id, officialsFirst?.id, "and so does Parley for the official client's message");

    // The official client's second message (after its key update commit) still reaches Parley.
    await group.sendText("and again");
    await parleysGroup.sync();
    assert.deepEqual(
      (await parleysGroup.messages()).map((m) => m.content),
      ["hello from the official client", "hello back from Parley", "and again"],
    );
  });

  it("the official client's metadata commit reaches Parley, and after its removal Parley reads nothing new", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "before" });
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await parleysGroup.sync();

    await group.updateName("renamed by the official client");
    await group.updateDescription("described by the official client");
    await parleysGroup.sync();
    assert.equal(parleysGroup.name, "renamed by the official client");
    assert.equal(parleysGroup.description, "described by the official client");

    await group.removeMembers([parley.inboxId]);
    await group.sendText("after Parley left");
    await parleysGroup.sync();
    assert.ok(!(await parleysGroup.messages()).some((m) => m.content === "after Parley left"));
  });

  // A commit that removes us carries an UpdatePath we can't decrypt; the
  // removal is read from its proposals (@parley/mls processMessage).
  it("Parley sees itself removed by the official client", async () => {
    const group = await official.conversations.createGroup([parley.inboxId]);
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await group.removeMembers([parley.inboxId]);
    await parleysGroup.sync();
    assert.equal(parleysGroup.isActive, false);
  });

  // RFC 9420 12.4 requires an UpdatePath on a GroupContextExtensions commit;
  // OpenMLS refuses one without (ts-mls rc.10 left it out: scripts/patch-ts-mls.mjs).
  it("Parley's metadata commit reaches the official client", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "before" });
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await parleysGroup.sync();
    await parleysGroup.updateName("renamed by Parley");
    await group.sync();
    assert.equal(group.name, "renamed by Parley");
  });

  it("Parley creates a group with the official client in it: messages both ways", async () => {
    const group = await parley.conversations.createGroup([official.inboxId], { groupName: "made by Parley" });
    await group.send("hello from Parley");

    await official.conversations.sync();
    const officialsGroup = (await official.conversations.getConversationById(group.id)) as Group | undefined;
    assert.ok(officialsGroup, "the official client accepted Parley's welcome");
    assert.equal(officialsGroup.name, "made by Parley");
    await officialsGroup.sync();
    assert.ok(texts(await officialsGroup.messages()).includes("hello from Parley"));

    await officialsGroup.sendText("hello back from the official client");
    await group.sync();
    assert.deepEqual(
      (await group.messages()).map((m) => m.content),
      ["hello from Parley", "hello back from the official client"],
    );
  });

  it("the official client opens a DM with Parley: Parley reads and replies", async () => {
    const dm = await official.conversations.createDm(parley.inboxId);
    await dm.sendText("dm from the official client");
    await parley.conversations.sync();
    const parleysDm = parley.conversations.getDmByInboxId(official.inboxId);
    assert.ok(parleysDm, "Parley sees the DM");
    assert.equal(parleysDm.id, dm.id);
    assert.equal(parleysDm.metadata().conversationType, "dm");
    await parleysDm.sync();
    assert.deepEqual((await parleysDm.messages()).map((m) => m.content), ["dm from the official client"]);
    await parleysDm.send("dm reply from Parley");
    await dm.sync();
    assert.ok(texts(await dm.messages()).includes("dm reply from Parley"));
  });

  it("Parley opens a DM with another official client, which accepts it as a DM", async () => {
    const other = await Client.create(officialSigner(createTestWallet()), options as never);
    const dm = await parley.conversations.createDm(other.inboxId);
    assert.equal(dm.peerInboxId, other.inboxId);
    assert.equal(await parley.conversations.createDm(other.inboxId), dm, "createDm reuses the DM");
    await dm.send("dm from Parley");
    await other.conversations.sync();
    const othersDm = other.conversations.getDmByInboxId(parley.inboxId);
    assert.ok(othersDm, "the official client lists it as a DM with Parley");
    assert.equal(othersDm.id, dm.id);
    await othersDm.sync();
    assert.ok(texts(await othersDm.messages()).includes("dm from Parley"));
    await othersDm.sendText("dm reply from the official client");
    await dm.sync();
    assert.deepEqual((await dm.messages()).map((m) => m.content), ["dm from Parley", "dm reply from the official client"]);
  });

  it("Parley's stream yields what the official client sends while it is open", async () => {
    const group = await official.conversations.createGroup([parley.inboxId]);
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await parleysGroup.sync();
    const stream = parleysGroup.stream();
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await group.sendText("live from the official client");
      const next = await stream.next();
      assert.equal(next.value?.content, "live from the official client");
      assert.equal(next.value.senderInboxId, official.inboxId);
    } finally {
      await stream.return();
    }
  });

  it("reactions (xmtp.org/reaction:2.0) go both ways", async () => {
    const group = await official.conversations.createGroup([parley.inboxId]);
    const officialsMessage = await group.sendText("react to this");
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await parleysGroup.sync();

    const reaction: Reaction = {
      reference: officialsMessage,
      referenceInboxId: official.inboxId,
      action: ReactionAction.Added,
      content: "👍",
      schema: ReactionSchema.Unicode,
    };
    await parleysGroup.sendReaction(reaction);
    await group.sync();
    // The official SDK lists reactions on the message they refer to, not as messages.
    const target = (await group.messages()).find((m) => m.id === officialsMessage);
    assert.ok(target);
    assert.equal(target.reactions.length, 1, "the official client decoded the reaction and attached it");
    const seen = target.reactions[0];
    assert.equal(seen?.senderInboxId, parley.inboxId);
    assert.deepEqual(seen.content, { ...reaction });

    const parleysMessage = await parleysGroup.send("and to this");
    await group.sync();
    await group.sendReaction({ ...reaction, reference: parleysMessage, referenceInboxId: parley.inboxId, content: "🎉" });
    await parleysGroup.sync();
    const received = (await parleysGroup.messages()).filter((m) => m.contentType === "xmtp.org/reaction:2.0");
    assert.deepEqual(
      received.map((m) => [m.senderInboxId, m.content]),
      [
        [parley.inboxId, reaction],
        [official.inboxId, { ...reaction, reference: parleysMessage, referenceInboxId: parley.inboxId, content: "🎉" }],
      ],
    );
  });

  it("replies (xmtp.org/reply:1.0) go both ways", async () => {
    const group = await official.conversations.createGroup([parley.inboxId]);
    const officialsMessage = await group.sendText("reply to this");
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await parleysGroup.sync();

    const parleysReply = await parleysGroup.sendReply(officialsMessage, "a reply from Parley", official.inboxId);
    await group.sync();
    const seen = (await group.messages()).find((m) => m.id === parleysReply);
    assert.ok(seen, "the official client has the reply, with the same id");
    const enriched = seen.content as { referenceId: string; content: unknown };
    assert.equal(enriched.referenceId, officialsMessage);
    assert.equal(enriched.content, "a reply from Parley");

    await group.sendReply({ content: encodeText("a reply from the official client"), reference: parleysReply, referenceInboxId: parley.inboxId });
    await parleysGroup.sync();
    const received = (await parleysGroup.messages()).filter((m) => m.contentType === "xmtp.org/reply:1.0").map((m) => [m.senderInboxId, m.content]);
    assert.deepEqual(received, [
      [parley.inboxId, { reference: officialsMessage, referenceInboxId: official.inboxId, contentType: "xmtp.org/text:1.0", content: "a reply from Parley" }],
      [official.inboxId, { reference: parleysReply, referenceInboxId: parley.inboxId, contentType: "xmtp.org/text:1.0", content: "a reply from the official client" }],
    ]);
  });
});
