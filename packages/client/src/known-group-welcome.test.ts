// Welcomes for a group id we already hold (conversations/known-group-welcome.ts;
// ../shared/spec/xmtp-client.md section 2.5), through a node in this
// process: a member removed and added again rejoins, whether or not it saw
// its removal first; the node's replay of an old welcome is refused and
// leaves the group as it was; another group squatting the id is held beside
// the real one (conversations/local-key.ts), whichever arrives first, and
// neither stands in the way of the other.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { newDmExtensions, newGroupExtensions } from "./conversations/group-metadata.js";
import { makerOf, replayNewestWelcome, sendForgedWelcome } from "./forged-welcome.test-util.js";
import { Client, Group, GroupMessageKind, type ClientLogger, type Conversation } from "./index.js";
import { recorder, refusedWelcomes } from "./client-fixtures.test-util.js";




const texts = async (c: Conversation) => (await c.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

describe("@parley/client: welcomes for a group we already hold", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-known-group-"));
  let node: InProcessTestNode;
  let api: ApiClient;
  const open: Client[] = [];
  const dbNames = new Map<Client, string>();
  const signers = new Map<Client, ReturnType<typeof createPrivateKeySigner>>();
  const dbOf = (c: Client) => join(dir, dbNames.get(c)!);

  before(() => {
    node = createInProcessTestNode();
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    for (const c of open) c.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const named = async (name: string, logger?: ClientLogger) => {
    const file = `${name}-${randomBytes(4).toString("hex")}.db`;
    const signer = createPrivateKeySigner(randomBytes(32));
    const c = await Client.create(signer, {
      ...node.clientOptions,
      dbPath: join(dir, file),
      ...(logger === undefined ? {} : { logger }),
    });
    open.push(c);
    dbNames.set(c, file);
    signers.set(c, signer);
    return c;
  };

  /** `client` closed and opened again on the same store. */
  const restarted = async (client: Client, logger?: ClientLogger) => {
    client.close();
    const signer = signers.get(client);
    assert.ok(signer);
    const c = await Client.create(signer, { ...node.clientOptions, dbPath: dbOf(client), ...(logger === undefined ? {} : { logger }) });
    open.push(c);
    dbNames.set(c, dbNames.get(client)!);
    signers.set(c, signer);
    return c;
  };

  const joined = async (client: Client, id: string): Promise<Group> => {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group);
    return group;
  };

  it("a member removed, then added again, rejoins and reads on", async () => {
    const alice = await named("alice");
    const bob = await named("bob");
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "back" });
    const bobs = await joined(bob, group.id);
    await group.removeMembers([bob.inboxId]);
    await bobs.sync();
    assert.equal(bobs.isActive, false);
    await group.send("while away");
    await bobs.sync();

    await group.addMembers([bob.inboxId]);
    await bob.conversations.sync();
    assert.equal(bobs.isActive, true, "the welcome re-adds us");
    await group.send("welcome back");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["welcome back"]);
    await bobs.send("glad to be back");
    await group.sync();
    assert.deepEqual(await texts(group), ["while away", "welcome back", "glad to be back"]);
    assert.equal(bob.conversations.list().length, 1);
  });

  it("removed and added again before we synced the group: the welcome still rejoins", async () => {
    const alice = await named("alice");
    const bob = await named("bob");
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await group.removeMembers([bob.inboxId]);
    await group.addMembers([bob.inboxId]);
    // Bob's state still reads active: the removal is unseen until the group syncs.
    assert.equal(bobs.isActive, true);
    await bob.conversations.sync();
    await group.send("after the re-add");
    await bobs.sync();
    assert.equal(bobs.isActive, true);
    assert.deepEqual(await texts(bobs), ["after the re-add"]);
  });

  it("the node replays a welcome: refused while we are in the group, and after our removal; the group is unchanged", async () => {
    const bobLog = recorder();
    const alice = await named("alice");
    const bob = await named("bob", bobLog);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await group.send("one");
    await bobs.sync();

    await replayNewestWelcome(api, bob, dbOf(bob));
    await bob.conversations.sync();
    assert.deepEqual(refusedWelcomes(bobLog), ["a welcome to a group we are an active member of"]);
    await group.send("two");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["one", "two"]);

    await group.removeMembers([bob.inboxId]);
    await bobs.sync();
    await replayNewestWelcome(api, bob, dbOf(bob));
    await bob.conversations.sync();
    assert.equal(bobs.isActive, false, "the old welcome does not bring back a dead epoch");
    assert.equal(refusedWelcomes(bobLog)[1], "a welcome to an epoch no later than the one we left");
  });

  it("another group squatting the id of a group we are in is held beside it; the real group goes on", async () => {
    const bobLog = recorder();
    const alice = await named("alice");
    const bob = await named("bob", bobLog);
    const mallory = await named("mallory");
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "real" });
    const bobs = await joined(bob, group.id);
    await sendForgedWelcome(api, makerOf(mallory.inboxId, dbOf(mallory)), newGroupExtensions(mallory.inboxId, { groupName: "squat" }), [bob], {
      groupId: group.groupIdBytes,
    });
    await bob.conversations.sync();
    assert.deepEqual(refusedWelcomes(bobLog), []);
    // The first group held on the id keeps it as its conversation id; the squat gets another.
    assert.equal(bobs.id, group.id);
    const squat = bob.conversations.list().find((c) => c.id !== group.id);
    assert.ok(squat instanceof Group);
    assert.equal(squat.name, "squat");
    assert.deepEqual(squat.groupIdBytes, group.groupIdBytes);
    assert.equal(bob.conversations.list().length, 2);
    assert.equal(bobs.name, "real");
    assert.deepEqual((await bobs.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId].sort());
    await group.send("still ours");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["still ours"]);
  });

  it("a squatter's earlier welcome for the id, refused, does not stand in the way of the real one", async () => {
    const bobLog = recorder();
    const alice = await named("alice");
    const bob = await named("bob", bobLog);
    const carol = await named("carol");
    const mallory = await named("mallory");
    const group = await alice.conversations.createGroup([carol.inboxId], { groupName: "real" });
    // Mallory saw the group's id on its topic and gets to Bob first with a
    // "DM" of that id naming Alice and Bob, herself inside.
    await sendForgedWelcome(api, makerOf(mallory.inboxId, dbOf(mallory)), newDmExtensions(alice.inboxId, bob.inboxId), [bob], {
      groupId: group.groupIdBytes,
    });
    await bob.conversations.sync();
    assert.equal(refusedWelcomes(bobLog).length, 1);
    assert.equal(bob.conversations.list().length, 0);

    await group.addMembers([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    assert.equal(bobs.name, "real");
    await group.send("the real one");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["the real one"]);
  });

  it("a squatter's valid group reaches us first: the real welcome for the id joins beside it, both work, across a restart", async () => {
    const bobLog = recorder();
    const alice = await named("alice");
    let bob = await named("bob", bobLog);
    const carol = await named("carol");
    const forger = await named("forger");
    const mallory = await named("mallory");
    const group = await alice.conversations.createGroup([carol.inboxId], { groupName: "real" });
    // Mallory saw the group's id on its topic; her own group of that id,
    // made by hand, brings in Bob and her own client, and reaches Bob first.
    await sendForgedWelcome(api, makerOf(forger.inboxId, dbOf(forger)), newGroupExtensions(forger.inboxId, { groupName: "squat" }), [bob, mallory], {
      groupId: group.groupIdBytes,
    });
    const squat = await joined(bob, group.id);
    assert.equal(squat.name, "squat");
    const mallorys = await joined(mallory, group.id);

    const arrivals = bob.conversations.stream();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await group.addMembers([bob.inboxId]);
    await bob.conversations.sync();
    assert.deepEqual(refusedWelcomes(bobLog), []);
    assert.equal(bob.conversations.list().length, 2);
    const real = bob.conversations.list().find((c) => c.id !== squat.id);
    assert.ok(real instanceof Group);
    // Held second: its id is not hex of the group id (the squat holds that one).
    assert.notEqual(real.id, group.id);
    assert.deepEqual(real.groupIdBytes, group.groupIdBytes);
    assert.equal(real.name, "real");
    assert.equal((await arrivals.next()).value?.id, real.id, "conversations.stream() yields the real group");
    await arrivals.return();

    // Both groups talk on one topic; each reads its own. (Before the real
    // group was held, the squat's sync refused its commit as any group's would.)
    const held = bobLog.entries.length;
    await group.send("from alice");
    await mallorys.send("from mallory");
    await real.sync();
    await squat.sync();
    assert.deepEqual(await texts(real), ["from alice"]);
    assert.deepEqual(await texts(squat), ["from mallory"]);
    await real.send("bob to alice");
    await squat.send("bob to mallory");
    await group.sync();
    await mallorys.sync();
    assert.deepEqual(await texts(group), ["from alice", "bob to alice"]);
    assert.deepEqual(await texts(mallorys), ["from mallory", "bob to mallory"]);
    // What is the sibling's is skipped quietly, never refused.
    const refusedGroupMessages = bobLog.entries.slice(held).filter((e) => String(e.fields["code"]).startsWith("refused.") && e.fields["code"] !== "refused.commit_log");
    assert.deepEqual(refusedGroupMessages.map((e) => e.fields), []);
    assert.ok(bobLog.entries.some((e) => e.fields["code"] === "skipped.sibling_group"));

    // A restart: both are there and sync, under the same ids.
    const realId = real.id;
    bob = await restarted(bob, bobLog);
    assert.deepEqual(bob.conversations.list().map((c) => c.id).sort(), [squat.id, realId].sort());
    const realAgain = bob.conversations.getConversationById(realId);
    const squatAgain = bob.conversations.getConversationById(squat.id);
    assert.ok(realAgain instanceof Group && squatAgain instanceof Group);
    await group.send("after the restart");
    await mallorys.send("mallory after the restart");
    await realAgain.sync();
    await squatAgain.sync();
    assert.deepEqual(await texts(realAgain), ["from alice", "bob to alice", "after the restart"]);
    assert.deepEqual(await texts(squatAgain), ["from mallory", "bob to mallory", "mallory after the restart"]);

    // The commit log is the id's too: Alice's entries are checked by the real
    // group (compared, no fork) and do not verify for the squat.
    assert.equal((await realAgain.debugInfo()).isCommitLogForked, false);
    assert.equal((await squatAgain.debugInfo()).maybeForked, false);

    // One topic, two conversations: streamAllMessages wakes both on it.
    const stream = bob.conversations.streamAllMessages();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await group.send("streamed from alice");
    await mallorys.send("streamed from mallory");
    const streamed: string[] = [];
    while (streamed.length < 2) {
      const m = (await stream.next()).value;
      assert.ok(m);
      if (m.kind === GroupMessageKind.Application) streamed.push(`${m.conversationId === realId ? "real" : "squat"}: ${typeof m.content === "string" ? m.content : "?"}`);
    }
    await stream.return();
    assert.deepEqual(streamed.sort(), ["real: streamed from alice", "squat: streamed from mallory"]);

    // The node replays the real welcome: refused, nothing listed twice.
    await replayNewestWelcome(api, bob, dbOf(bob));
    await bob.conversations.sync();
    assert.deepEqual(refusedWelcomes(bobLog), ["a welcome to a group we are an active member of"]);
    assert.equal(bob.conversations.list().length, 2);
  });
});
