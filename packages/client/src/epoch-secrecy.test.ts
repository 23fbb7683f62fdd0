// Forward secrecy inside an epoch (RFC 9420 9.2, the deletion schedule),
// against a node in this process that withholds, reorders and refuses
// what it likes, and a thief who later copies the local database. Each test
// mounts the node's move through the real client (a Connect-ES interceptor
// on its transport plays the node) and then reads the stored files, as the
// tests of forward-secrecy.test.ts do: what the database holds once a
// secret was used must not derive it again.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { groupMembers, messageSenderData, nodePrivateKeysOf, processMessage, ratchetSecretsOf, storedRatchetsOf } from "@parley/mls";
import type { mlsApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { decodeEnvelope } from "./content/text-codec.js";
import { Client, Group, GroupMessageKind, isClientError } from "./index.js";
import { LocalStore } from "./store/local-store.js";
import { databaseBytes, storedGroup } from "./client-fixtures.test-util.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** RFC 9420 8 ExpandWithLabel over HKDF-SHA256 (suite 3), one block: the attacker's own arithmetic. */
function expandWithLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLabel = Buffer.from(`MLS 1.0 ${label}`);
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context]);
  return new Uint8Array(createHmac("sha256", secret).update(info).update(Buffer.from([1])).digest().subarray(0, length));
}

/** RFC 9420 9.1: the ratchet secret of `to`, stepped forward from `secret` taken as that of `from`. */
function ratchetForward(secret: Uint8Array, from: number, to: number): Uint8Array {
  let current = secret;
  for (let g = from; g < to; g += 1) {
    const generation = Buffer.alloc(4);
    generation.writeUInt32BE(g);
    current = expandWithLabel(current, "secret", generation, 32);
  }
  return current;
}

/** Everything SQLite keeps of the database on disk: the file, its WAL and its journal. */


/**
 * The node, as the client meets it: withholds the envelopes named (for good,
 * or until the client next calls `until`), and can refuse a method.
 */
function maliciousNode(): {
  interceptor: Interceptor;
  withhold(id: bigint, until?: string): void;
  refuse(method: string): void;
  /** Takes the client's next published message but never shows it back to this client. */
  hideNextSend(): void;
} {
  const held = new Set<bigint>();
  const hidden = new Set<string>();
  let hideNext = false;
  const releases = new Map<string, bigint[]>();
  const refused = new Set<string>();
  return {
    interceptor: (next) => async (req) => {
      if (refused.has(req.method.name)) throw new ConnectError("refused (test node)", Code.Unavailable);
      for (const id of releases.get(req.method.name) ?? []) held.delete(id);
      releases.delete(req.method.name);
      if (hideNext && req.method.name === "SendGroupMessages") {
        hideNext = false;
        for (const m of (req.message as mlsApi.SendGroupMessagesRequest).messages) if (m.version.case === "v1") hidden.add(hex(m.version.value.data));
      }
      const res = await next(req);
      if (req.method.name === "QueryGroupMessages" && !res.stream) {
        const answer = res.message as mlsApi.QueryGroupMessagesResponse;
        answer.messages = answer.messages.filter((m) => !(m.version.case === "v1" && (held.has(m.version.value.id) || hidden.has(hex(m.version.value.data)))));
      }
      return res;
    },
    withhold: (id, until) => {
      held.add(id);
      if (until !== undefined) releases.set(until, [...(releases.get(until) ?? []), id]);
    },
    refuse: (method) => refused.add(method),
    hideNextSend: () => {
      hideNext = true;
    },
  };
}

describe("@parley/client: forward secrecy inside an epoch (RFC 9420 9.2)", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-epoch-fs-"));
  let node: InProcessTestNode;
  let api: ApiClient;
  let n = 0;

  before(() => {
    node = createInProcessTestNode();
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newClient(interceptors: Interceptor[] = []): Promise<{ client: Client; dbPath: string }> {
    const dbPath = join(dir, `c${(n += 1)}.db`);
    const client = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, dbPath, interceptors });
    return { client, dbPath };
  }

  async function joined(client: Client, id: string): Promise<Group> {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group, "joined from the welcome");
    return group;
  }

  async function lastEnvelope(groupId: Uint8Array): Promise<mlsApi.GroupMessage_V1> {
    const res = await api.mls.queryGroupMessages({ groupId });
    const all = res.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value] : [])).sort((a, b) => Number(a.id - b.id));
    const last = all.at(-1);
    assert.ok(last);
    return last;
  }

  const texts = async (g: Group) => (await g.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

  it("a withheld message leaves only its own key and nonce: no later generation of the sender's chain derives from the stored state", async () => {
    const alice = await newClient();
    const evil = maliciousNode();
    const bob = await newClient([evil.interceptor]);
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await bobs.sync();
    await group.send("m1");
    const m1 = await lastEnvelope(group.groupIdBytes);
    evil.withhold(m1.id);
    await group.send("m2");
    await group.send("m3");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["m2", "m3"], "m1 was withheld, the others read");

    const stored = storedGroup(bob.dbPath, group.groupIdBytes);
    const withSkipped = storedRatchetsOf(stored).filter((r) => r.skipped.size > 0);
    assert.ok(withSkipped.length > 0, "the stored state keeps something for the skipped generation (the test can fail)");
    for (const ratchet of withSkipped) {
      for (const [generation, entry] of ratchet.skipped) {
        const derived = ratchetForward(entry, generation, ratchet.generation);
        assert.notEqual(hex(derived), hex(ratchet.secret), "the skipped entry is the ratchet secret: every later generation derives from it");
      }
    }
    // The kept key still opens the withheld message if it ever comes.
    const late = await processMessage(stored, m1.data, () => true);
    assert.equal(late.kind, "application");
    assert.equal(decodeEnvelope((late as { plaintext: Uint8Array }).plaintext) !== undefined, true);
    alice.client.close();
    bob.client.close();
  });
  it("a committed intent keeps no copy of the epoch's secrets, though the node refuses its welcomes", async () => {
    const evil = maliciousNode();
    const alice = await newClient([evil.interceptor]);
    const bob = await newClient();
    const carol = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await bobs.send("hello"); // after Bob's key update: his next message stays in the epoch
    await group.sync();

    evil.refuse("SendWelcomeMessages");
    await assert.rejects(group.addMembers([carol.client.inboxId]), "the welcome could not be sent");
    const store = new LocalStore(alice.dbPath);
    try {
      const committed = store.intents(group.groupIdBytes, "committed");
      assert.equal(committed.length, 1, "the commit won and waits for its welcome");
      assert.equal(committed[0]?.stagedState, undefined, "its staged state went when it was merged");
    } finally {
      store.close();
    }

    await bobs.sync();
    await bobs.send("in the new epoch");
    const before = storedGroup(alice.dbPath, group.groupIdBytes);
    const bytesBefore = databaseBytes(alice.dbPath);
    await assert.rejects(group.sync(), "the welcome is refused again");
    assert.deepEqual(await texts(group), ["hello", "in the new epoch"]);
    const afterIt = storedGroup(alice.dbPath, group.groupIdBytes);
    const kept = new Set(ratchetSecretsOf(afterIt).map(hex));
    const consumed = ratchetSecretsOf(before).filter((s) => !kept.has(hex(s)));
    assert.ok(consumed.length > 0, "reading the message consumed secrets of the epoch");
    assert.ok(consumed.some((s) => bytesBefore.includes(Buffer.from(s))), "the search sees secrets where the database holds them");
    const bytesAfter = databaseBytes(alice.dbPath);
    for (const s of consumed) assert.ok(!bytesAfter.includes(Buffer.from(s)), "a used secret of the epoch is still on disk");
    alice.client.close();
    bob.client.close();
    carol.client.close();
  });
  it("merging our own commit brings back no key of the old epoch used since it was built", async () => {
    const evil = maliciousNode();
    const alice = await newClient([evil.interceptor]);
    const bob = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await bobs.send("hello"); // after Bob's key update
    await group.sync();
    // Bob's message is first in the node's order, but Alice builds her commit
    // without it: the node shows it to her only once the commit is published.
    await bobs.send("read between building and merging");
    const m = await lastEnvelope(group.groupIdBytes);
    evil.withhold(m.id, "SendGroupMessages");
    const epoch = storedGroup(alice.dbPath, group.groupIdBytes).epoch;
    await group.updateName("renamed");
    const stored = storedGroup(alice.dbPath, group.groupIdBytes);
    assert.equal(stored.epoch, epoch + 1n, "Alice's commit won its epoch and was merged");
    assert.deepEqual(await texts(group), ["hello", "read between building and merging"], "Bob's message was read, in the old epoch");
    let readsAgain: boolean;
    try {
      readsAgain = (await processMessage(stored, m.data, () => true)).kind === "application";
    } catch {
      readsAgain = false;
    }
    assert.equal(readsAgain, false, "the merged state decrypts a message of the old epoch it already read");
    alice.client.close();
    bob.client.close();
  });
  it("a second commit of ours in the same epoch takes a new handshake generation", async () => {
    const evil = maliciousNode();
    const alice = await newClient([evil.interceptor]);
    const bob = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    await joined(bob.client, group.id);
    const bobsBefore = storedGroup(bob.dbPath, group.groupIdBytes);
    // The node takes Alice's commit but never shows it to her: it stays
    // waiting for its epoch (the call fails), and her next change is built
    // on the same epoch.
    evil.hideNextSend();
    await assert.rejects(group.updateName("renamed"), (e) => isClientError(e) && e.code === "client.publish_failed");
    await group.updateDescription("described");
    const res = await api.mls.queryGroupMessages({ groupId: group.groupIdBytes });
    const commits = res.messages
      .flatMap((m) => (m.version.case === "v1" ? [m.version.value] : []))
      .sort((a, b) => Number(a.id - b.id))
      .map((m) => messageSenderData(bobsBefore, m.data))
      .filter((sender) => sender !== undefined);
    assert.equal(commits.length, 2, "two commits of Alice on the epoch Bob holds (the test can fail)");
    assert.equal(commits[0]?.leafIndex, commits[1]?.leafIndex);
    assert.notEqual(commits[1]?.generation, commits[0]?.generation, "the second commit reused the first one's handshake generation");
    alice.client.close();
    bob.client.close();
  });
  it("the private key of a node a commit blanks leaves the stored state", async () => {
    const users = [await newClient(), await newClient(), await newClient(), await newClient()];
    const [alice] = users;
    assert.ok(alice);
    const group = await alice.client.conversations.createGroup(users.slice(1).map((u) => u.client.inboxId));
    const byLeaf = new Map(groupMembers(storedGroup(alice.dbPath, group.groupIdBytes)).map((m) => [m.leafIndex, users.find((u) => u.client.inboxId === m.inboxId)]));
    // Leaves 0 and 1 share their parent, node 1. A commit from the other half
    // of the tree that removes leaf 1 blanks node 1 and does not refill it:
    // leaf 0 holds a private key for a node that no longer has one.
    const keeper = byLeaf.get(0);
    const removed = byLeaf.get(1);
    const committer = byLeaf.get(3);
    assert.ok(keeper === alice && removed && committer, "four members on leaves 0-3");
    await group.addAdmin(committer.client.inboxId);
    const committers = await joined(committer.client, group.id);
    await committers.sync();
    const before = storedGroup(alice.dbPath, group.groupIdBytes);
    const parentKey = nodePrivateKeysOf(before).get(1);
    assert.ok(parentKey, "leaf 0 holds node 1's private key (the test can fail)");
    assert.ok(databaseBytes(alice.dbPath).includes(Buffer.from(parentKey)), "the search sees it where the database holds it");

    await committers.removeMembers([removed.client.inboxId]);
    await group.sync();
    const afterIt = storedGroup(alice.dbPath, group.groupIdBytes);
    assert.equal(afterIt.epoch, before.epoch + 1n, "the removal applied");
    assert.equal(nodePrivateKeysOf(afterIt).has(1), false, "the blanked node's private key is still in the state");
    assert.ok(!databaseBytes(alice.dbPath).includes(Buffer.from(parentKey)), "the blanked node's private key is still on disk");
    for (const u of users) u.client.close();
  });
});
