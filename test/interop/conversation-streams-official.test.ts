// Parley's conversation streams fed by the official @xmtp/node-sdk 5.5.0:
// the official client's group and DM with Parley arrive
// on Parley's conversations.stream() (and each only on the matching typed
// stream), and streamAllMessages picks up a group joined while it runs.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, it } from "node:test";
import { Client as ParleyClient, GroupMessageKind, type DecodedMessage } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";


let node: RunningNode;
before(async () => {
  node = await startTestNode();
  useNodeForOfficial(node);
});
after(async () => {
  await node.stop();
});

it("the official client's new group and DM arrive on Parley's conversation streams; streamAllMessages follows the group", { timeout: 120_000 }, async () => {
  const official = await Client.create(officialSigner(createTestWallet()), options as never);
  const parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
  const all = parley.conversations.stream();
  const groups = parley.conversations.streamGroups();
  const dms = parley.conversations.streamDms();
  const messages = parley.conversations.streamAllMessages();
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const group = await official.conversations.createGroup([parley.inboxId], { groupName: "streamed" });
    const dm = await official.conversations.createDm(parley.inboxId);
    assert.deepEqual([(await all.next()).value?.id, (await all.next()).value?.id], [group.id, dm.id]);
    assert.equal((await groups.next()).value?.name, "streamed");
    assert.equal((await dms.next()).value?.peerInboxId, official.inboxId);

    await group.sendText("to the streamed group");
    let m: DecodedMessage | undefined;
    do m = (await messages.next()).value;
    while (m !== undefined && m.kind !== GroupMessageKind.Application);
    assert.deepEqual([m?.content, m?.senderInboxId, m?.conversationId], ["to the streamed group", official.inboxId, group.id]);
  } finally {
    for (const s of [all, groups, dms, messages]) await s.return();
    parley.close();
  }
});
