// The Parley client and the official @xmtp/node-sdk 5.5.0 in the same
// groups, through a Parley node in this process: the
// official client creates a group with a Parley client in it, Parley reads
// and replies, the official client reads the reply; then Parley creates a
// group with the official client in it and messages go both ways; and each
// side adds and removes members with the other already in the group.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client as ParleyClient, Group as ParleyGroup, contentTypeToString, GroupMessageKind, ReactionAction, ReactionSchema, type Reaction } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client, encodeText, type DecodedMessage, type Group } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";


// Both sides list group updates too (built locally from commits); these tests compare what was sent.
const onlyApplication = { kind: GroupMessageKind.Application } as const;

const texts = (messages: DecodedMessage[]) => messages.flatMap((m) => (typeof m.content === "string" ? [m.content] : []));

describe("the Parley client beside the official client", { timeout: 120_000 }, () => {
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
    assert.ok(parleysGroup instanceof ParleyGroup, "Parley joined from the official client's welcome");
    assert.equal(parleysGroup.name, "made by the official client");
    await parleysGroup.sync();
    assert.deepEqual(
      (await parleysGroup.messages(onlyApplication)).map((m) => [m.content, m.senderInboxId]),
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
      (await parleysGroup.messages(onlyApplication)).map((m) => m.content),
      ["hello from the official client", "hello back from Parley", "and again"],
    );
  });

  it("the official client's metadata commit reaches Parley, and after its removal Parley reads nothing new", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "before" });
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup instanceof ParleyGroup);
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
    assert.ok(parleysGroup instanceof ParleyGroup);
    await group.removeMembers([parley.inboxId]);
    await parleysGroup.sync();
    assert.equal(parleysGroup.isActive, false);
  });

  // RFC 9420 12.4 requires an UpdatePath on a GroupContextExtensions commit;
  // OpenMLS refuses one without (ts-mls rc.10 left it out: mended in @parley/mls src/engine/mends.ts).
  it("Parley's metadata commit reaches the official client", async () => {
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "before" });
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup instanceof ParleyGroup);
    await parleysGroup.sync();
    await parleysGroup.updateName("renamed by Parley");
    await group.sync();
    assert.equal(group.name, "renamed by Parley");
  });

  // Membership commits both ways with a member already in the group (RFC 9420
  // 12.4: the Add+GroupContextExtensions commit must carry an UpdatePath,
  // computed on the tree after the Adds; OpenMLS skips it otherwise).
  it("Parley adds a Parley member to the official client's group: the official client follows and reads on", async () => {
    const second = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
    try {
      const group = await official.conversations.createGroup([parley.inboxId]);
      await parley.conversations.sync();
      const parleysGroup = parley.conversations.getConversationById(group.id);
      assert.ok(parleysGroup instanceof ParleyGroup);
      await parleysGroup.sync();

      await parleysGroup.addMembers([second.inboxId]);
      await group.sync();
      assert.deepEqual(
        (await group.members()).map((m) => m.inboxId).sort(),
        [official.inboxId, parley.inboxId, second.inboxId].sort(),
        "the official client applied Parley's add commit",
      );
      await parleysGroup.send("after the add, from Parley");
      await group.sync();
      assert.ok(texts(await group.messages()).includes("after the add, from Parley"));

      await second.conversations.sync();
      const secondsGroup = second.conversations.getConversationById(group.id);
      assert.ok(secondsGroup, "the new Parley member joined from Parley's welcome");
      await group.sendText("welcome, from the official client");
      await secondsGroup.sync();
      assert.deepEqual(
        (await secondsGroup.messages(onlyApplication)).map((m) => m.content),
        ["after the add, from Parley", "welcome, from the official client"],
      );
    } finally {
      second.close();
    }
  });

  it("Parley adds an official member to its own group: both official clients follow", async () => {
    const other = await Client.create(officialSigner(createTestWallet()), options as never);
    const group = await parley.conversations.createGroup([official.inboxId]);
    await official.conversations.sync();
    const officialsGroup = (await official.conversations.getConversationById(group.id)) as Group | undefined;
    assert.ok(officialsGroup);
    await officialsGroup.sync();

    await group.addMembers([other.inboxId]);
    await officialsGroup.sync();
    assert.deepEqual(
      (await officialsGroup.members()).map((m) => m.inboxId).sort(),
      [official.inboxId, parley.inboxId, other.inboxId].sort(),
      "the official member applied Parley's add commit",
    );
    await group.send("three of us");
    await officialsGroup.sync();
    assert.ok(texts(await officialsGroup.messages()).includes("three of us"));

    await other.conversations.sync();
    const othersGroup = (await other.conversations.getConversationById(group.id)) as Group | undefined;
    assert.ok(othersGroup, "the added official client accepted Parley's welcome");
    await othersGroup.sync();
    assert.ok(texts(await othersGroup.messages()).includes("three of us"));
    await othersGroup.sendText("hello from the newcomer");
    await group.sync();
    await officialsGroup.sync();
    assert.ok((await group.messages()).some((m) => m.content === "hello from the newcomer"));
    assert.ok(texts(await officialsGroup.messages()).includes("hello from the newcomer"));
  });

  it("the official client adds a Parley member beside Parley: the existing Parley member follows", async () => {
    const second = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
    try {
      const group = await official.conversations.createGroup([parley.inboxId]);
      await parley.conversations.sync();
      const parleysGroup = parley.conversations.getConversationById(group.id);
      assert.ok(parleysGroup instanceof ParleyGroup);
      await parleysGroup.sync();

      await group.addMembers([second.inboxId]);
      await group.sendText("after adding the second Parley client");
      await parleysGroup.sync();
      assert.deepEqual(
        (await parleysGroup.members()).map((m) => m.inboxId).sort(),
        [official.inboxId, parley.inboxId, second.inboxId].sort(),
      );
      assert.ok((await parleysGroup.messages()).some((m) => m.content === "after adding the second Parley client"));

      await second.conversations.sync();
      const secondsGroup = second.conversations.getConversationById(group.id);
      assert.ok(secondsGroup);
      await secondsGroup.sync();
      await secondsGroup.send("from the second Parley client");
      await parleysGroup.sync();
      await group.sync();
      assert.ok((await parleysGroup.messages()).some((m) => m.content === "from the second Parley client"));
      assert.ok(texts(await group.messages()).includes("from the second Parley client"));
    } finally {
      second.close();
    }
  });

  it("Parley removes a member and the official client follows; the official client removes one and Parley follows", async () => {
    const second = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
    try {
      const parleys = await parley.conversations.createGroup([official.inboxId, second.inboxId]);
      await official.conversations.sync();
      const officialsCopy = (await official.conversations.getConversationById(parleys.id)) as Group | undefined;
      assert.ok(officialsCopy);
      await officialsCopy.sync();
      await parleys.removeMembers([second.inboxId]);
      await officialsCopy.sync();
      assert.deepEqual(
        (await officialsCopy.members()).map((m) => m.inboxId).sort(),
        [official.inboxId, parley.inboxId].sort(),
        "the official client applied Parley's removal",
      );
      await parleys.send("after Parley's removal");
      await officialsCopy.sync();
      assert.ok(texts(await officialsCopy.messages()).includes("after Parley's removal"));

      // Removing takes an admin in XMTP's default policy: the creator is one.
      const officials = await official.conversations.createGroup([parley.inboxId, second.inboxId]);
      await parley.conversations.sync();
      const parleysCopy = parley.conversations.getConversationById(officials.id);
      assert.ok(parleysCopy);
      await parleysCopy.sync();
      await officials.removeMembers([second.inboxId]);
      await officials.sendText("after the official client's removal");
      await parleysCopy.sync();
      assert.deepEqual((await parleysCopy.members()).map((m) => m.inboxId).sort(), [official.inboxId, parley.inboxId].sort());
      assert.ok((await parleysCopy.messages()).some((m) => m.content === "after the official client's removal"));
    } finally {
      second.close();
    }
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
      (await group.messages(onlyApplication)).map((m) => m.content),
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
    assert.deepEqual((await parleysDm.messages(onlyApplication)).map((m) => m.content), ["dm from the official client"]);
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
    assert.deepEqual((await dm.messages(onlyApplication)).map((m) => m.content), ["dm from Parley", "dm reply from the official client"]);
  });

  it("Parley's stream yields what the official client sends while it is open", async () => {
    const group = await official.conversations.createGroup([parley.inboxId]);
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup instanceof ParleyGroup);
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
    assert.ok(parleysGroup instanceof ParleyGroup);
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
    const received = (await parleysGroup.messages()).filter((m) => contentTypeToString(m.contentType) === "xmtp.org/reaction:2.0");
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
    assert.ok(parleysGroup instanceof ParleyGroup);
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
    const received = (await parleysGroup.messages()).filter((m) => contentTypeToString(m.contentType) === "xmtp.org/reply:1.0").map((m) => [m.senderInboxId, m.content]);
    assert.deepEqual(received, [
      [parley.inboxId, { reference: officialsMessage, referenceInboxId: official.inboxId, contentType: "xmtp.org/text:1.0", content: "a reply from Parley" }],
      [official.inboxId, { reference: parleysReply, referenceInboxId: parley.inboxId, contentType: "xmtp.org/text:1.0", content: "a reply from the official client" }],
    ]);
  });
});
