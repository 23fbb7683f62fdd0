// Key rotation and forward secrecy against a node in this process: key updates before
// the first send and after 30 days; forward secrecy on disk (what the local
// database keeps after a message is processed cannot decrypt it again);
// post-compromise security (a copy of a member's state from before its key
// update reads nothing after it); a removed member's last state reads
// nothing after its removal. The attacker in these tests holds a stored
// state and every envelope the node has, and uses @parley/mls directly, so
// no client-side guard (cursor, isActive) stands in for the cryptography.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import {
  decodeGroupState,
  encodeGroupState,
  encryptMessage,
  groupMembers,
  privateInitKey,
  processMessage,
  ratchetSecretsOf,
  selfUpdate,
  validateKeyPackage,
  type GroupState,
} from "@parley/mls";
import { decode, messageContents, type mlsApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { decodeContent, decodeEnvelope } from "./content/text-codec.js";
import { GROUP_KEY_ROTATION_INTERVAL_NS } from "./conversations/key-rotation.js";
import { Client, Group, GroupMessageKind } from "./index.js";
import { KEY_PACKAGE_ROTATION_INTERVAL_NS, KEYS_EXPIRATION_INTERVAL_NS } from "./key-packages.js";
import { LocalStore } from "./store/local-store.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function storedGroup(dbPath: string, groupId: Uint8Array): { state: GroupState; cursor: bigint } {
  const store = new LocalStore(dbPath);
  try {
    const row = store.group(groupId);
    assert.ok(row, "the group is in the store");
    return { state: decodeGroupState(row.state), cursor: row.cursor };
  } finally {
    store.close();
  }
}

function storedKeyPackage(dbPath: string, initKey: Uint8Array): { privateKeyPackage: Uint8Array } | undefined {
  const store = new LocalStore(dbPath);
  try {
    return store.keyPackage(initKey);
  } finally {
    store.close();
  }
}

/** Everything SQLite keeps of the database on disk: the file, its WAL and its journal. */
function databaseBytes(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`, `${dbPath}-journal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

async function envelopesAfter(api: ApiClient, groupId: Uint8Array, cursor: bigint): Promise<mlsApi.GroupMessage_V1[]> {
  const res = await api.mls.queryGroupMessages({ groupId });
  return res.messages
    .flatMap((m) => (m.version.case === "v1" ? [m.version.value] : []))
    .filter((m) => m.id > cursor)
    .sort((a, b) => Number(a.id - b.id));
}

/**
 * The attacker: processes every envelope after `cursor` with `state`, as
 * far as the keys it holds allow, and returns the texts it could read.
 */
async function readWith(state: GroupState, envelopes: readonly mlsApi.GroupMessage_V1[]): Promise<string[]> {
  const read: string[] = [];
  let current = state;
  for (const envelope of envelopes) {
    try {
      const result = await processMessage(current, envelope.data, () => true);
      if (result.kind === "wrong_epoch" || result.kind === "from_own_leaf") continue;
      current = result.state;
      if (result.kind === "application") {
        const payload = decodeEnvelope(result.plaintext);
        const text = payload === undefined ? undefined : decodeContent(decode(messageContents.EncodedContentSchema, payload.content));
        if (typeof text === "string") read.push(text);
      }
    } catch {
      // No key for it: exactly what forward secrecy and PCS promise.
    }
  }
  return read;
}

const epochOf = (dbPath: string, group: Group) => storedGroup(dbPath, group.groupIdBytes).state.epoch;

describe("@parley/client: key updates, forward secrecy and post-compromise security", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-fs-"));
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

  async function newClient(clock?: () => bigint): Promise<{ client: Client; dbPath: string }> {
    const dbPath = join(dir, `c${(n += 1)}.db`);
    const client = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, dbPath, ...(clock ? { nowNs: clock } : {}) });
    return { client, dbPath };
  }

  async function joined(client: Client, id: string): Promise<Group> {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group, "joined from the welcome");
    return group;
  }

  it("a member commits a key update before its first send after joining, then not again for 30 days", async () => {
    let now = BigInt(Date.now()) * 1_000_000n;
    const clock = () => (now += 1000n);
    const alice = await newClient();
    const bob = await newClient(clock);
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await group.sync();
    const joinedEpoch = epochOf(alice.dbPath, group);
    const bobsLeafKey = () => {
      const leaf = groupMembers(storedGroup(alice.dbPath, group.groupIdBytes).state).find((m) => m.inboxId === bob.client.inboxId);
      assert.ok(leaf);
      return hex(leaf.encryptionKey);
    };
    const joinedKey = bobsLeafKey();

    await bobs.send("first");
    await group.sync();
    assert.equal(epochOf(alice.dbPath, group), joinedEpoch + 1n, "Bob's key update came before his first message");
    const updatedKey = bobsLeafKey();
    assert.notEqual(updatedKey, joinedKey, "Bob's leaf has a new encryption key, as Alice sees it");
    assert.deepEqual((await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["first"]);

    await bobs.send("second");
    await group.sync();
    assert.equal(epochOf(alice.dbPath, group), joinedEpoch + 1n, "no key update for the second send");
    assert.equal(bobsLeafKey(), updatedKey);

    now += GROUP_KEY_ROTATION_INTERVAL_NS;
    await bobs.send("a month later");
    await group.sync();
    assert.equal(epochOf(alice.dbPath, group), joinedEpoch + 2n, "a key update after 30 days without a commit");
    assert.notEqual(bobsLeafKey(), updatedKey, "and a new leaf key again");
    assert.deepEqual((await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["first", "second", "a month later"]);
    alice.client.close();
    bob.client.close();
  });

  it("forward secrecy on disk: once a message is processed, nothing in the database can decrypt it again", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await bobs.sync();
    const secret = "forward secret text";
    await group.send(secret);

    const before = storedGroup(bob.dbPath, group.groupIdBytes);
    const bytesBefore = databaseBytes(bob.dbPath);
    await bobs.sync();
    assert.deepEqual((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), [secret]);
    const afterIt = storedGroup(bob.dbPath, group.groupIdBytes);
    const bytesAfter = databaseBytes(bob.dbPath);

    // The secrets the message consumed: in the state before, not after.
    const kept = new Set(ratchetSecretsOf(afterIt.state).map(hex));
    const consumed = ratchetSecretsOf(before.state).filter((s) => !kept.has(hex(s)));
    assert.ok(consumed.length > 0, "processing the message consumed ratchet secrets");
    assert.ok(consumed.some((s) => bytesBefore.includes(Buffer.from(s))), "the search sees secrets where the database holds them");
    for (const s of consumed) assert.ok(!bytesAfter.includes(Buffer.from(s)), "a consumed ratchet secret is still on disk");

    const ciphertexts = await envelopesAfter(api, group.groupIdBytes, before.cursor);
    assert.deepEqual(await readWith(before.state, ciphertexts), [secret], "the state before it reads it (the test can fail)");
    assert.deepEqual(await readWith(afterIt.state, ciphertexts), [], "the stored state after it cannot");
    alice.client.close();
    bob.client.close();
  });

  it("a key taken from the out-of-order window or from a past epoch's tree leaves the stored state once used", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    await joined(bob.client, group.id);
    // Ciphertexts made with @parley/mls from Alice's stored state, so that
    // Bob meets them in an order the client itself never publishes.
    const alices = storedGroup(alice.dbPath, group.groupIdBytes).state;
    const text = (s: string) => new TextEncoder().encode(s);
    const m1 = await encryptMessage(alices, text("m1"));
    const m2 = await encryptMessage(m1.state, text("m2"));
    const m3 = await encryptMessage(m2.state, text("m3"));
    const update = await selfUpdate(m3.state, () => true);
    const stored = (state: GroupState) => decodeGroupState(encodeGroupState(state));
    const consumedBy = (before: GroupState, after: GroupState) => {
      const kept = new Set(ratchetSecretsOf(after).map(hex));
      return ratchetSecretsOf(before).filter((x) => !kept.has(hex(x)));
    };
    const stillReads = async (state: GroupState, ciphertext: Uint8Array) => {
      try {
        return (await processMessage(state, ciphertext, () => true)).kind === "application";
      } catch {
        return false;
      }
    };
    const applied = async (state: GroupState, ciphertext: Uint8Array) => {
      const result = await processMessage(state, ciphertext, () => true);
      assert.ok(result.kind !== "wrong_epoch" && result.kind !== "from_own_leaf");
      return stored(result.state);
    };

    const start = storedGroup(bob.dbPath, group.groupIdBytes).state;
    const windowed = await applied(start, m2.message);
    assert.ok(await stillReads(windowed, m1.message), "m1's key waits in the out-of-order window (the test can fail)");
    const both = await applied(windowed, m1.message);
    assert.ok(consumedBy(windowed, both).length > 0, "m1's skipped key left the window");
    assert.equal(await stillReads(both, m1.message), false, "m1 does not decrypt again");
    assert.equal(await stillReads(both, m2.message), false, "m2 does not decrypt again");

    const next = await applied(both, update.commit);
    assert.ok(await stillReads(next, m3.message), "m3, of the past epoch, still decrypts (the test can fail)");
    const afterM3 = await applied(next, m3.message);
    assert.ok(consumedBy(next, afterM3).length > 0, "its key left the past epoch's tree");
    assert.equal(await stillReads(afterM3, m3.message), false, "m3 does not decrypt again from the past epoch");
    alice.client.close();
    bob.client.close();
  });

  it("post-compromise security: a copy of a member's state from before its key update reads nothing after it", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await bobs.sync();
    const stolen = storedGroup(bob.dbPath, group.groupIdBytes);

    await group.send("still readable with the stolen state");
    await bobs.send("after my key update"); // preceded by Bob's key update commit
    await group.sync();
    await group.send("the attacker must not read this");
    await bobs.sync();
    assert.deepEqual(
      (await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content),
      ["still readable with the stolen state", "after my key update", "the attacker must not read this"],
    );

    const read = await readWith(stolen.state, await envelopesAfter(api, group.groupIdBytes, stolen.cursor));
    assert.deepEqual(read, ["still readable with the stolen state"], "the stolen state stops at Bob's key update");
    alice.client.close();
    bob.client.close();
  });

  it("a removed member's last state reads nothing sent after its removal", async () => {
    const alice = await newClient();
    const bob = await newClient();
    const carol = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId, carol.client.inboxId]);
    await joined(bob.client, group.id);
    const carols = await joined(carol.client, group.id);
    await group.send("before the removal");
    await carols.sync();
    assert.deepEqual((await carols.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["before the removal"]);
    const last = storedGroup(carol.dbPath, group.groupIdBytes);

    await group.removeMembers([carol.client.inboxId]);
    await group.send("after the removal");
    const read = await readWith(last.state, await envelopesAfter(api, group.groupIdBytes, last.cursor));
    assert.deepEqual(read, [], "nothing after the removal decrypts with the removed member's keys");
    alice.client.close();
    bob.client.close();
    carol.client.close();
  });

  it("key packages: replaced after 30 days; a replaced one's private key leaves the disk a day later", async () => {
    let now = BigInt(Date.now()) * 1_000_000n;
    const clock = () => (now += 1000n);
    const { client, dbPath } = await newClient(clock);
    const initKeyOnNode = async () => {
      const res = await api.mls.fetchKeyPackages({ installationKeys: [client.installationIdBytes] });
      return hex((await validateKeyPackage(res.keyPackages[0]!.keyPackageTlsSerialized)).initKey);
    };
    const first = await initKeyOnNode();
    await client.conversations.sync();
    assert.equal(await initKeyOnNode(), first, "not replaced within 30 days");
    const firstPrivate = storedKeyPackage(dbPath, Buffer.from(first, "hex"));
    assert.ok(firstPrivate);
    const initPrivate = Buffer.from(privateInitKey(firstPrivate.privateKeyPackage));
    assert.ok(databaseBytes(dbPath).includes(initPrivate), "the search sees the private init key while it is stored");

    now += KEY_PACKAGE_ROTATION_INTERVAL_NS;
    await client.conversations.sync();
    const second = await initKeyOnNode();
    assert.notEqual(second, first, "a new key package after 30 days");
    assert.ok(storedKeyPackage(dbPath, Buffer.from(first, "hex")), "the replaced one is kept a while for late welcomes");

    now += KEYS_EXPIRATION_INTERVAL_NS;
    await client.conversations.sync();
    assert.equal(storedKeyPackage(dbPath, Buffer.from(first, "hex")), undefined, "deleted a day after it was replaced");
    assert.ok(storedKeyPackage(dbPath, Buffer.from(second, "hex")), "the current one stays");
    assert.equal(await initKeyOnNode(), second);
    assert.ok(!databaseBytes(dbPath).includes(initPrivate), "its private init key is gone from the database files");
    client.close();
  });
});
