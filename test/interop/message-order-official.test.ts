// One order for everyone, official clients included: the official
// @xmtp/node-sdk 5.5.0 lists a group by the node's created_ns and by nothing
// else (../shared/spec/xmtp-node-api.md 1.2), so the node must stamp every
// message of a group with its own, increasing time. The node's clock is
// frozen here so that every message certainly arrives "in one instant".
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client as ParleyClient, GroupMessageKind } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import { SqliteStore, type RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";

const frozenNs = BigInt(Date.now()) * 1_000_000n;

describe("message order beside the official client", { timeout: 120_000 }, () => {
  let node: RunningNode;

  before(async () => {
    node = await startTestNode({ store: new SqliteStore({ path: ":memory:", nowNs: () => frozenNs }) });
    useNodeForOfficial(node);
  });

  after(async () => {
    await node.stop();
  });

  it("two official and two Parley members sending at once list the group in one order", async () => {
    const officials = await Promise.all([0, 1].map(() => Client.create(officialSigner(createTestWallet()), options as never)));
    const parleys = await Promise.all(
      [0, 1].map(() => ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url })),
    );
    const [creator, second] = officials as [Client, Client];
    const group = await creator.conversations.createGroup([second.inboxId, ...parleys.map((p) => p.inboxId)]);
    await second.conversations.sync();
    const secondsGroup = await second.conversations.getConversationById(group.id);
    assert.ok(secondsGroup);
    const parleyGroups = await Promise.all(
      parleys.map(async (p) => {
        await p.conversations.sync();
        const joined = p.conversations.getConversationById(group.id);
        assert.ok(joined);
        return joined;
      }),
    );

    // Each member first speaks once on its own (an official member's first
    // message follows its key update commit), so that the burst below is
    // application messages on one epoch.
    const send = [group, secondsGroup, ...parleyGroups].map((g, m) => (text: string) => g.sendText(`member ${m} ${text}`));
    for (const speak of send) await speak("hello");
    const syncAll = () => Promise.all([group.sync(), secondsGroup.sync(), ...parleyGroups.map((g) => g.sync())]);
    await syncAll();

    await Promise.all(send.flatMap((speak) => [0, 1, 2, 3].map((i) => speak(`message ${i}`))));
    await syncAll();

    const officialLists = await Promise.all(
      [group, secondsGroup].map(async (g) => (await g.messages()).flatMap((m) => (typeof m.content === "string" ? [m.content] : []))),
    );
    const parleyLists = await Promise.all(
      parleyGroups.map(async (g) => (await g.messages({ kind: GroupMessageKind.Application })).flatMap((m) => (typeof m.content === "string" ? [m.content] : []))),
    );
    const [first, ...rest] = [...officialLists, ...parleyLists] as [string[], ...string[][]];
    assert.equal(first.length, 20);
    for (const list of rest) assert.deepEqual(list, first);
    for (const p of parleys) p.close();
  });
});
