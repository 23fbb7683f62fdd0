// The official @xmtp/node-sdk 5.5.0 uses a Parley node as its network: three
// clients register, a named group and a DM carry messages both ways, a stream
// receives what is sent while it is open, a removed member can no longer read,
// a rename reaches the others, a second installation of one inbox joins and is
// then revoked. The node runs in this process on the embedded SQLite store.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SqliteStore, type RunningNode } from "@parley/node";
import { createTestWallet, officialSigner, startTestNode, type TestWallet } from "@parley/testkit";
import { Client, type DecodedMessage, type Dm, type Group } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";


async function createClient(wallet: TestWallet) {
  return Client.create(officialSigner(wallet), options as never);
}

type OfficialClient = Awaited<ReturnType<typeof createClient>>;

const texts = (messages: DecodedMessage[]) =>
  messages.flatMap((m) => (typeof m.content === "string" ? [m.content] : []));

async function groupOf(client: OfficialClient, id: string): Promise<Group> {
  await client.conversations.sync();
  const conversation = await client.conversations.getConversationById(id);
  assert.ok(conversation, `${client.inboxId.slice(0, 8)} has no conversation ${id}`);
  return conversation as Group;
}

async function textsIn(conversation: Group | Dm): Promise<string[]> {
  await conversation.sync();
  return texts(await conversation.messages());
}

describe("the official client against a Parley node", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-interop-"));
  let node: RunningNode;
  let alice: OfficialClient;
  let bob: OfficialClient;
  let carol: OfficialClient;
  let group: Group;
  const bobWallet = createTestWallet();

  before(async () => {
    node = await startTestNode({ store: new SqliteStore({ path: join(dir, "node.db") }) });
    useNodeForOfficial(node);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers three clients, each visible to the others", async () => {
    [alice, bob, carol] = await Promise.all([
      createClient(createTestWallet()),
      createClient(bobWallet),
      createClient(createTestWallet()),
    ]);
    const reachable = await alice.canMessage([
      { identifier: bobWallet.address, identifierKind: 0 },
    ]);
    assert.equal([...reachable.values()][0], true);
    const states = await alice.preferences.fetchInboxStates([bob.inboxId, carol.inboxId]);
    assert.deepEqual(states.map((s) => s.inboxId), [bob.inboxId, carol.inboxId]);
  });

  it("creates a named group with the other two, and messages flow both ways", async () => {
    group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId], { groupName: "Parley interop" });
    await group.sendText("hello from alice");
    const bobsGroup = await groupOf(bob, group.id);
    assert.equal(bobsGroup.name, "Parley interop");
    assert.ok((await textsIn(bobsGroup)).includes("hello from alice"));
    await bobsGroup.sendText("hello back from bob");
    assert.ok((await textsIn(group)).includes("hello back from bob"));
    const carolsGroup = await groupOf(carol, group.id);
    assert.deepEqual(
      (await textsIn(carolsGroup)).filter((t) => t.startsWith("hello")),
      ["hello from alice", "hello back from bob"],
    );
  });

  it("carries a DM both ways", async () => {
    const dm = await alice.conversations.createDm(bob.inboxId);
    await dm.sendText("dm from alice");
    await bob.conversations.sync();
    const bobsDm = bob.conversations.getDmByInboxId(alice.inboxId);
    assert.ok(bobsDm);
    assert.ok((await textsIn(bobsDm)).includes("dm from alice"));
    await bobsDm.sendText("dm from bob");
    assert.ok((await textsIn(dm)).includes("dm from bob"));
  });

  it("streams what is sent while the stream is open", async () => {
    const carolsGroup = await groupOf(carol, group.id);
    const stream = await carolsGroup.stream();
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await group.sendText("live one");
      const received = await new Promise<DecodedMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("nothing streamed within 20 s")), 20_000);
        void (async () => {
          for await (const message of stream) {
            if (message?.content === "live one") {
              clearTimeout(timer);
              resolve(message);
              return;
            }
          }
        })();
      });
      assert.equal(received.senderInboxId, alice.inboxId);
    } finally {
      await stream.return();
    }
  });

  it("renames the group and the others see it", async () => {
    await group.updateName("Renamed by alice");
    const bobsGroup = await groupOf(bob, group.id);
    await bobsGroup.sync();
    assert.equal(bobsGroup.name, "Renamed by alice");
  });

  it("removes a member, who can no longer read new messages", async () => {
    await group.removeMembers([carol.inboxId]);
    await group.sendText("after carol left");
    // Carol's sync processes her removal; the group is then inactive, and
    // the official client refuses to sync an inactive group again.
    await carol.conversations.syncAll();
    const carolsGroup = (await carol.conversations.getConversationById(group.id)) as Group;
    assert.equal(carolsGroup.isActive, false);
    const carolReads = texts(await carolsGroup.messages());
    assert.ok(carolReads.includes("hello from alice"), "she still has what she read before");
    assert.ok(!carolReads.includes("after carol left"));
    const bobsGroup = await groupOf(bob, group.id);
    assert.ok((await textsIn(bobsGroup)).includes("after carol left"));
    const members = (await group.members()).map((m) => m.inboxId).sort();
    assert.deepEqual(members, [alice.inboxId, bob.inboxId].sort());
  });

  it("adds a second installation of an inbox, then revokes it", async () => {
    const bobLaptop = await createClient(bobWallet);
    assert.equal(bobLaptop.inboxId, bob.inboxId);
    assert.notEqual(bobLaptop.installationId, bob.installationId);
    const state = await bob.preferences.fetchInboxState();
    assert.equal(state.installations.length, 2);

    // A send checks members' installations when 5 s have passed since the
    // last check (libxmtp's SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS),
    // and then adds bob's new one.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    await group.sendText("for both of bob's devices");
    const laptopGroup = await groupOf(bobLaptop, group.id);
    assert.ok((await textsIn(laptopGroup)).includes("for both of bob's devices"));

    await bob.revokeInstallations([bobLaptop.installationIdBytes]);
    const after = await bob.preferences.fetchInboxState();
    assert.deepEqual(after.installations.map((i) => i.id), [bob.installationId]);
  });
});
