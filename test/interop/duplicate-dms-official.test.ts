// Duplicate DMs between Parley and the official @xmtp/node-sdk 5.5.0
// (../shared/spec/xmtp-client.md 3.2): each opens a DM
// with the other at the same moment, so two DMs exist. Both sides keep
// both, list one, read the messages of both in either, and, once each DM
// carries a message, show the same one (the one with the newest message).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, it } from "node:test";
import { Client as ParleyClient, Dm as ParleyDm, GroupMessageKind } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client, type Dm } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";


let node: RunningNode;
before(async () => {
  node = await startTestNode();
  useNodeForOfficial(node);
});
after(async () => {
  await node.stop();
});

it("DMs opened by both sides at once: both kept, one listed, the same one shown, messages of both in either", { timeout: 120_000 }, async () => {
  const official = await Client.create(officialSigner(createTestWallet()), options as never);
  const parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
  try {
    const [officials, parleys] = await Promise.all([official.conversations.createDm(parley.inboxId), parley.conversations.createDm(official.inboxId)]);
    assert.notEqual(officials.id, parleys.id);
    await official.conversations.syncAll();
    await parley.conversations.syncAll();
    assert.equal(official.conversations.listDms().length, 1);
    assert.equal(parley.conversations.listDms().length, 1);
    assert.deepEqual(
      parley.conversations.listDms({ includeDuplicateDms: true }).map((d) => d.id).sort(),
      (await official.conversations.list({ includeDuplicateDms: true })).map((d) => d.id).sort(),
    );

    await officials.sendText("in the official client's DM");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const parleysDm = parley.conversations.getConversationById(parleys.id);
    assert.ok(parleysDm instanceof ParleyDm);
    await parleysDm.send("in Parley's DM");
    await official.conversations.syncAll();
    await parley.conversations.syncAll();

    const shownByOfficial = official.conversations.getDmByInboxId(parley.inboxId) as Dm | undefined;
    assert.equal(shownByOfficial?.id, parleys.id, "the official client shows the DM with the newest message");
    assert.equal(parley.conversations.getDmByInboxId(official.inboxId)?.id, parleys.id, "and so does Parley");
    assert.deepEqual((await parleysDm.duplicateDms()).map((d) => d.id), [officials.id]);
    const expected = ["in the official client's DM", "in Parley's DM"];
    for (const id of [officials.id, parleys.id]) {
      const ours = parley.conversations.getConversationById(id);
      assert.ok(ours);
      assert.deepEqual((await ours.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), expected);
      const theirs = await official.conversations.getConversationById(id);
      assert.ok(theirs);
      assert.deepEqual((await theirs.messages()).flatMap((m) => (typeof m.content === "string" ? [m.content] : [])), expected);
    }
  } finally {
    parley.close();
  }
});
