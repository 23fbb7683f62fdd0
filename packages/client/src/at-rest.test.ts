// The local database at rest, read as a thief copying the device would:
// with `dbEncryptionKey` every file in the database's folder holds neither
// the installation key, nor the group's secrets, nor a message, nor
// SQLite's header; the right key opens it again with everything there; a
// wrong key, no key, or a key for a database written without one is a
// typed error and leaves every file as it was. Without a key the files are
// owner-only from their first byte. A real client on a node in this process.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner, signerIdentifier, type Signer } from "@parley/identity";
import { epochAuthenticator, ratchetSecretsOf } from "@parley/mls";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { folderFiles, storedGroup } from "./client-fixtures.test-util.js";
import { Client, ClientError, Group, GroupMessageKind, type ClientErrorCode, type ClientOptions } from "./index.js";
import { LocalStore } from "./store/local-store.js";

const SQLITE_HEADER = Buffer.from("SQLite format 3", "latin1");
const hasCode = (code: ClientErrorCode) => (e: unknown) => e instanceof ClientError && e.code === code;
const mode = (path: string) => statSync(path).mode & 0o777;

/** Where in `files` any of `needles` appears: "file: what", for the assertion message. */
function found(files: ReadonlyMap<string, Buffer>, needles: ReadonlyMap<string, Uint8Array>): string[] {
  const hits: string[] = [];
  for (const [file, bytes] of files) {
    for (const [what, needle] of needles) if (bytes.includes(Buffer.from(needle))) hits.push(`${file}: ${what}`);
  }
  return hits;
}

describe("@parley/client: the local database at rest", { timeout: 120_000 }, () => {
  let node: InProcessTestNode;
  let root: string;
  let n = 0;
  before(() => {
    node = createInProcessTestNode();
    root = mkdtempSync(join(tmpdir(), "parley-at-rest-"));
  });
  after(async () => {
    await node.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** A folder of its own for one database, so that every file in it is the store's. */
  function folder(): string {
    const dir = join(root, `d${(n += 1)}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  const open = (signer: Signer, dbPath: string, extra: Partial<ClientOptions> = {}) => Client.create(signer, { ...node.clientOptions, dbPath, ...extra });

  /** Alice with an encrypted database, in a group with Bob; each has sent a message and read the other's. */
  async function aliceEncrypted(key: Uint8Array) {
    const dir = folder();
    const dbPath = join(dir, "alice.db3");
    const signer = createPrivateKeySigner(randomBytes(32));
    const alice = await open(signer, dbPath, { dbEncryptionKey: key });
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const fromAlice = `alice's words ${randomBytes(8).toString("hex")}`;
    const fromBob = `bob's words ${randomBytes(8).toString("hex")}`;
    await group.send(fromAlice);
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs instanceof Group);
    await bobs.sync();
    await bobs.send(fromBob);
    await group.sync();
    const texts = (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
    assert.deepEqual(texts, [fromAlice, fromBob]);
    return { dir, dbPath, signer, alice, bob, group, fromAlice, fromBob };
  }

  it("with dbEncryptionKey no file in the folder holds the installation key, a group secret, a message or SQLite's header; the key opens it again", async () => {
    const key = randomBytes(32);
    const { dir, dbPath, signer, alice, bob, group, fromAlice, fromBob } = await aliceEncrypted(key);
    // While the client is open (the write-ahead log and its index beside
    // the file), and after it closed.
    const whileOpen = folderFiles(dir);
    alice.close();
    const closed = folderFiles(dir);

    // What there is to find, taken from the store with the key.
    const store = new LocalStore(dbPath, key);
    const installation = store.installation();
    store.close();
    assert.ok(installation);
    const state = storedGroup(dbPath, group.groupIdBytes, key);
    const secrets = ratchetSecretsOf(state);
    assert.ok(secrets.length > 0, "the group's state holds secrets to look for");
    const needles = new Map<string, Uint8Array>([
      ["the installation's private key", installation.installationSecret],
      ["the epoch authenticator", epochAuthenticator(state)],
      ...secrets.map((s, i) => [`secret tree node ${i}`, s] as const),
      ["Alice's message", Buffer.from(fromAlice)],
      ["Bob's message", Buffer.from(fromBob)],
      ["SQLite's header", SQLITE_HEADER],
    ]);
    assert.ok(whileOpen.has("alice.db3-wal"), "the write-ahead log was there to read");
    assert.deepEqual(found(whileOpen, needles), [], "found while the client was open");
    assert.deepEqual(found(closed, needles), [], "found after it closed");

    const reopened = await open(signer, dbPath, { dbEncryptionKey: `0x${key.toString("hex")}` });
    try {
      assert.equal(reopened.installationId, alice.installationId);
      const again = reopened.conversations.getConversationById(group.id);
      assert.ok(again);
      assert.deepEqual((await again.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), [fromAlice, fromBob]);
    } finally {
      reopened.close();
      bob.close();
    }
  });

  it("a wrong key, or none, is a typed error and every file is left byte for byte; the right key still opens it", async () => {
    const key = randomBytes(32);
    const { dir, dbPath, signer, alice, bob, group, fromAlice } = await aliceEncrypted(key);
    alice.close();
    bob.close();
    const before = folderFiles(dir);

    const wrong = randomBytes(32);
    await assert.rejects(open(signer, dbPath, { dbEncryptionKey: wrong }), hasCode("client.store_wrong_key"));
    const identifier = await signerIdentifier(signer);
    assert.equal(identifier.kind, "ethereum");
    await assert.rejects(Client.build(identifier.address, { ...node.clientOptions, dbPath, dbEncryptionKey: wrong }), hasCode("client.store_wrong_key"));
    assert.throws(() => new LocalStore(dbPath, wrong), (e: unknown) => {
      assert.ok(hasCode("client.store_wrong_key")(e));
      // Neither key reaches the error or its cause.
      const told = `${String(e)} ${String((e as Error).cause)} ${(e as Error).stack ?? ""}`.toLowerCase();
      for (const k of [key, wrong]) assert.ok(!told.includes(k.toString("hex")), "a key is in the error");
      return true;
    });
    await assert.rejects(open(signer, dbPath), hasCode("client.store_encrypted"));
    assert.deepEqual(folderFiles(dir), before, "a refused open changed the files");

    const reopened = await open(signer, dbPath, { dbEncryptionKey: key });
    try {
      const again = reopened.conversations.getConversationById(group.id);
      assert.ok(again);
      assert.deepEqual((await again.messages({ kind: GroupMessageKind.Application }))[0]?.content, fromAlice);
    } finally {
      reopened.close();
    }
  });

  it("a key for a database written without one is client.store_not_encrypted, and the file is left as it was", async () => {
    const dir = folder();
    const dbPath = join(dir, "plain.db3");
    const signer = createPrivateKeySigner(randomBytes(32));
    (await open(signer, dbPath)).close();
    const before = folderFiles(dir);
    await assert.rejects(open(signer, dbPath, { dbEncryptionKey: randomBytes(32) }), hasCode("client.store_not_encrypted"));
    assert.deepEqual(folderFiles(dir), before);
    (await open(signer, dbPath)).close();
  });

  it("a key that is not 32 bytes (or 0x and 64 hex digits) is client.usage, before any file is made", async () => {
    const dir = folder();
    const dbPath = join(dir, "never.db3");
    const signer = createPrivateKeySigner(randomBytes(32));
    const bad: unknown[] = [randomBytes(31), randomBytes(33), new Uint8Array(0), randomBytes(32).toString("hex"), `0x${"ab".repeat(31)}`, `0x${"zz".repeat(32)}`];
    for (const dbEncryptionKey of bad) {
      await assert.rejects(open(signer, dbPath, { dbEncryptionKey: dbEncryptionKey as Uint8Array }), hasCode("client.usage"), `bad key ${bad.indexOf(dbEncryptionKey)}`);
      await assert.rejects(open(signer, ":memory:", { dbEncryptionKey: dbEncryptionKey as Uint8Array }), hasCode("client.usage"));
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it("without a key the database and its side files are owner-only from their first byte, whatever the umask", { skip: process.platform === "win32" }, async () => {
    const dir = folder();
    const dbPath = join(dir, "plain.db3");
    // With no umask, a file made with the default mode would be 0644 or
    // looser; only a mode given at creation keeps it 0600.
    const umask = process.umask(0);
    try {
      const alice = await open(createPrivateKeySigner(randomBytes(32)), dbPath);
      const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
      await (await alice.conversations.createGroup([bob.inboxId])).send("hello");
      const files = readdirSync(dir);
      assert.ok(files.includes("plain.db3-wal") && files.includes("plain.db3-shm"), `side files: ${files.join(", ")}`);
      for (const file of files) assert.equal(mode(join(dir, file)).toString(8), "600", file);
      alice.close();
      bob.close();
      assert.equal(mode(dbPath).toString(8), "600");
      assert.ok(!existsSync(`${dbPath}-journal`));
    } finally {
      process.umask(umask);
    }
  });
});
