// Installations joining and leaving inboxes, between the Parley client and
// the official @xmtp/node-sdk 5.5.0 through a Parley node in this process:
// Parley's periodic membership check adds an official
// member's new installation, and removes it once the official client
// revokes it; the official client's check adds a new Parley installation.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Client as ParleyClient, GroupMessageKind } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";

const SECOND_NS = 1_000_000_000n;

async function officialTexts(client: Client, id: string): Promise<string[]> {
  await client.conversations.sync();
  const group = await client.conversations.getConversationById(id);
  if (group === undefined) return [];
  await group.sync();
  return (await group.messages()).flatMap((m) => (typeof m.content === "string" ? [m.content] : []));
}

describe("installations joining and leaving, beside the official client", { timeout: 120_000 }, () => {
  let node: RunningNode;

  before(async () => {
    node = await startTestNode();
    useNodeForOfficial(node);
  });

  after(async () => {
    await node.stop();
  });

  it("Parley's membership check adds an official member's new installation, and removes it once revoked", async () => {
    let now = BigInt(Date.now()) * 1_000_000n;
    const parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url, nowNs: () => (now += 1000n) });
    const wallet = createTestWallet();
    const first = await Client.create(officialSigner(wallet), options as never);
    const group = await parley.conversations.createGroup([first.inboxId], { groupName: "two devices" });
    await group.send("to the first device");

    const second = await Client.create(officialSigner(wallet), options as never);
    assert.equal(second.inboxId, first.inboxId, "one inbox, two installations");
    now += 6n * SECOND_NS; // past the 5 s send interval of the check
    await group.send("to both devices");
    const officialMember = (await group.members()).find((m) => m.inboxId === first.inboxId);
    assert.equal(officialMember?.installationIds.length, 2, "the new installation is in Parley's tree");
    assert.deepEqual(await officialTexts(second, group.id), ["to both devices"], "the new installation joined and reads on");

    await first.revokeInstallations([second.installationIdBytes]);
    now += 6n * SECOND_NS;
    await group.send("after the revocation");
    assert.equal((await group.members()).find((m) => m.inboxId === first.inboxId)?.installationIds.length, 1, "removed from the tree");
    assert.deepEqual(await officialTexts(second, group.id), ["to both devices"], "the revoked installation reads nothing more");
    assert.deepEqual(await officialTexts(first, group.id), ["to the first device", "to both devices", "after the revocation"]);
    parley.close();
  });

  it("the official client's membership check adds a new Parley installation", async () => {
    const official = await Client.create(officialSigner(createTestWallet()), options as never);
    const signer = createPrivateKeySigner(randomBytes(32));
    const parley = await ParleyClient.create(signer, { apiUrl: node.url });
    const group = await official.conversations.createGroup([parley.inboxId]);
    await group.sendText("before");
    const parley2 = await ParleyClient.create(signer, { apiUrl: node.url });
    assert.equal(parley2.inboxId, parley.inboxId);

    await sleep(5_500); // libxmtp checks before a send once 5 s have passed (wall clock)
    await group.sendText("to both Parley installations");
    await parley2.conversations.sync();
    const joined = parley2.conversations.getConversationById(group.id);
    assert.ok(joined, "the official client added Parley's new installation");
    await joined.sync();
    const texts = (await joined.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
    assert.deepEqual(texts, ["to both Parley installations"]);
    parley.close();
    parley2.close();
  });
});
