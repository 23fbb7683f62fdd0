// One order for everyone: members list a group's messages by the node's
// created_ns (../shared/spec/xmtp-node-api.md 1.2), so when many messages
// reach the node in one instant every member must still list them alike.
// The node's clock is frozen here, which makes "one instant" certain rather
// than likely: without unique per-topic timestamps every message ties and
// each member lists its own first.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import { SqliteStore } from "@parley/node";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { Client, GroupMessageKind, type Conversation } from "./index.js";

describe("message order: every member lists a group alike", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  const frozenNs = BigInt(Date.now()) * 1_000_000n;

  before(() => {
    node = createInProcessTestNode({ store: new SqliteStore({ path: ":memory:", nowNs: () => frozenNs }) });
  });

  after(async () => {
    await node.stop();
  });

  it("messages sent concurrently by three members in one instant list in the same order on each", async () => {
    const members = await Promise.all(
      [0, 1, 2].map(() => Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions)),
    );
    const [creator, ...others] = members as [Client, Client, Client];
    const created = await creator.conversations.createGroup(others.map((c) => c.inboxId));
    const groups: Conversation[] = [created];
    for (const other of others) {
      await other.conversations.sync();
      const joined = other.conversations.getConversationById(created.id);
      assert.ok(joined);
      groups.push(joined);
    }

    await Promise.all(groups.flatMap((group, m) => Array.from({ length: 6 }, (_, i) => group.sendText(`member ${m} message ${i}`))));
    await Promise.all(groups.map((group) => group.sync()));

    const lists = await Promise.all(groups.map((group) => group.messages({ kind: GroupMessageKind.Application })));
    for (const list of lists) {
      assert.equal(list.length, 18);
      for (let i = 1; i < list.length; i++) {
        assert.ok(list[i]!.sentAtNs > list[i - 1]!.sentAtNs, "sent times are unique and increasing");
      }
    }
    const order = (list: (typeof lists)[number]) => list.map((m) => m.content);
    assert.deepEqual(order(lists[1]!), order(lists[0]!));
    assert.deepEqual(order(lists[2]!), order(lists[0]!));
    for (const member of members) member.close();
  });
});
