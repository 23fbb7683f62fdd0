// Group updates side by side with the official @xmtp/node-sdk 5.5.0
// (../shared/spec/xmtp-client.md 2.5 item 7 and 4.3):
// neither side sends them, each builds them from the commits it applies, so
// both message lists must hold the same entries: the same ids (sha256 over
// the group id, the commit's created_ns and the encoded GroupUpdated), the
// same sender (the committer), sent time and fields. The one entry that
// differs by design is the first: the creator lists its add commit, a
// joiner lists "added by" from its welcome, with its own key.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ApiUrls as ParleyApiUrls, Client as ParleyClient, type DecodedMessage as ParleyMessage } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import type { RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { ApiUrls, Client, type DecodedMessage, type Group } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";

// Read before the tests point the official "local" at the node in this process.
const officialApiUrls = { ...ApiUrls };


/** What both sides must agree on, in a form that compares (bigints as strings, absent fields dropped). */
function entry(m: { id: string; senderInboxId: string; sentAtNs: bigint; content: unknown; contentType: unknown }) {
  const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)));
  return { id: m.id, contentType: plain(m.contentType), senderInboxId: m.senderInboxId, sentAtNs: m.sentAtNs.toString(), content: plain(m.content) };
}

const official = (m: DecodedMessage) => entry(m);
const parleys = (m: ParleyMessage) => entry(m);

const inboxes = (...ids: string[]) => ids.map((inboxId) => ({ inboxId }));
const update = (initiatedByInboxId: string, fields: Record<string, unknown>) => ({
  initiatedByInboxId,
  addedInboxes: [],
  removedInboxes: [],
  leftInboxes: [],
  metadataFieldChanges: [],
  addedAdminInboxes: [],
  removedAdminInboxes: [],
  addedSuperAdminInboxes: [],
  removedSuperAdminInboxes: [],
  ...fields,
});

const sortKeys = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sortKeys) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)])) : v;

describe("group updates: the same entries in the official client's and Parley's message lists", { timeout: 120_000 }, () => {
  let node: RunningNode;
  let parley: ParleyClient;

  before(async () => {
    node = await startTestNode();
    useNodeForOfficial(node);
    parley = await ParleyClient.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url });
  });

  after(async () => {
    parley.close();
    await node.stop();
  });

  it("Parley's env names map to the official SDK's URLs", () => {
    assert.deepEqual({ ...ParleyApiUrls }, officialApiUrls);
  });

  it("the official client creates, renames and removes: Parley lists what it lists", async () => {
    const creator = await Client.create(officialSigner(createTestWallet()), options as never);
    const third = await Client.create(officialSigner(createTestWallet()), options as never);
    const group = await creator.conversations.createGroup([parley.inboxId, third.inboxId], { groupName: "first name" });
    await parley.conversations.sync();
    const parleysGroup = parley.conversations.getConversationById(group.id);
    assert.ok(parleysGroup);
    await group.updateName("second name");
    await group.removeMembers([third.inboxId]);
    await group.sendText("after the changes");
    await parleysGroup.sync();

    const theirs = (await group.messages()).map(official);
    const ours = (await parleysGroup.messages()).map(parleys);
    assert.equal(ours.length, theirs.length, JSON.stringify(ours.map((m) => m.contentType)));
    // The creator's first entry is its add commit, ours the welcome's "added by".
    const firstOfTheirs = theirs[0]?.content as { initiatedByInboxId: string; addedInboxes: { inboxId: string }[] };
    assert.equal(firstOfTheirs.initiatedByInboxId, creator.inboxId);
    assert.deepEqual(firstOfTheirs.addedInboxes.map((i) => i.inboxId).sort(), [parley.inboxId, third.inboxId].sort());
    assert.deepEqual(ours[0]?.contentType, { authorityId: "xmtp.org", typeId: "group_updated", versionMajor: 1, versionMinor: 0 });
    assert.equal(ours[0]?.senderInboxId, creator.inboxId);
    assert.deepEqual(ours[0]?.content, update(creator.inboxId, { addedInboxes: inboxes(parley.inboxId) }));
    // Everything after it: the same ids, senders, times and fields.
    assert.deepEqual(ours.slice(1).map(sortKeys), theirs.slice(1).map(sortKeys));
    assert.deepEqual(
      ours.slice(1).map((m) => m.content),
      [
        update(creator.inboxId, { metadataFieldChanges: [{ fieldName: "group_name", oldValue: "first name", newValue: "second name" }] }),
        update(creator.inboxId, { removedInboxes: inboxes(third.inboxId) }),
        "after the changes",
      ],
    );

    // A commit that removes Parley: both record the same entry, though
    // Parley never sees the commit's new extensions.
    await group.removeMembers([parley.inboxId]);
    await parleysGroup.sync();
    assert.equal(parleysGroup.isActive, false);
    const theirLast = (await group.messages()).map(official).at(-1);
    const ourLast = (await parleysGroup.messages()).map(parleys).at(-1);
    assert.deepEqual(sortKeys(ourLast), sortKeys(theirLast));
    assert.deepEqual(ourLast?.content, update(creator.inboxId, { removedInboxes: inboxes(parley.inboxId) }));
  });

  it("Parley creates, renames, adds and removes: the official member lists what Parley lists", async () => {
    const member = await Client.create(officialSigner(createTestWallet()), options as never);
    const later = await Client.create(officialSigner(createTestWallet()), options as never);
    const group = await parley.conversations.createGroup([member.inboxId], { groupName: "by Parley" });
    await group.updateName("renamed by Parley");
    await group.addMembers([later.inboxId]);
    await group.removeMembers([later.inboxId]);
    await member.conversations.sync();
    const membersGroup = (await member.conversations.getConversationById(group.id)) as Group | undefined;
    assert.ok(membersGroup);
    await membersGroup.sync();
    await membersGroup.sendText("from the official member");
    await group.sync();

    const ours = (await group.messages()).map(parleys);
    const theirs = (await membersGroup.messages()).map(official);
    assert.equal(theirs.length, ours.length, JSON.stringify(theirs.map((m) => m.contentType)));
    assert.deepEqual(ours[0]?.content, update(parley.inboxId, { addedInboxes: inboxes(member.inboxId) }));
    assert.deepEqual(sortKeys(theirs[0]?.content), sortKeys(update(parley.inboxId, { addedInboxes: inboxes(member.inboxId) })));
    assert.notEqual(ours[0]?.id, theirs[0]?.id, "a welcome's entry has its own idempotency key");
    assert.deepEqual(ours.slice(1).map(sortKeys), theirs.slice(1).map(sortKeys));
    assert.deepEqual(
      ours.slice(1).map((m) => m.content),
      [
        update(parley.inboxId, { metadataFieldChanges: [{ fieldName: "group_name", oldValue: "by Parley", newValue: "renamed by Parley" }] }),
        update(parley.inboxId, { addedInboxes: inboxes(later.inboxId) }),
        update(parley.inboxId, { removedInboxes: inboxes(later.inboxId) }),
        "from the official member",
      ],
    );
  });
});
