// The store's versions (migrate.ts) on real files: a fresh database runs
// every migration and ends with the schema an upgraded one has; the old
// store's database (the v0 fixture) is adopted with every row; a newer
// client's database, another program's, and a row a migration cannot read
// are refused with their codes and leave the file as it was; the file is
// owner-only.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3-multiple-ciphers";
import { fixtureSigner } from "../../../test/store-fixture/fixture-users.js";
import { Client } from "../../client.js";
import { ClientError, type ClientErrorCode } from "../../client-error.js";
import { decodeIntentOperation } from "../intent-record.js";
import { LocalStore } from "../local-store.js";
import { STORE_VERSION } from "./migrate.js";

const ALICE_V0 = fileURLToPath(new URL("../../../test/store-fixture/v0/alice.db", import.meta.url));

const hasCode = (code: ClientErrorCode) => (e: unknown) => e instanceof ClientError && e.code === code;

function withDb<T>(path: string, run: (db: Database.Database) => T): T {
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  try {
    return run(db);
  } finally {
    db.close();
  }
}

const userVersion = (path: string) => withDb(path, (db) => Number(db.pragma("user_version", { simple: true })));
const schemaOf = (path: string) =>
  withDb(path, (db) => db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all());
const rowCounts = (path: string) =>
  withDb(path, (db) =>
    Object.fromEntries(
      db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        .all()
        .map(({ name }) => [name, (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: bigint }).n]),
    ),
  );
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const mode = (path: string) => statSync(path).mode & 0o777;

describe("@parley/client store: versioned migrations", () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-store-migrations-"));
  let n = 0;
  const fresh = () => join(dir, `fresh-${(n += 1)}.db`);
  const copyOfV0 = () => {
    const path = join(dir, `v0-${(n += 1)}.db`);
    copyFileSync(ALICE_V0, path);
    return path;
  };

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a fresh database runs every migration: the latest version, and the schema an upgraded one has", () => {
    const path = fresh();
    new LocalStore(path).close();
    assert.equal(userVersion(path), STORE_VERSION);
    const upgraded = copyOfV0();
    new LocalStore(upgraded).close();
    assert.equal(userVersion(upgraded), STORE_VERSION);
    assert.deepEqual(schemaOf(path), schemaOf(upgraded));
    new LocalStore(":memory:").close();
  });

  it("the old store's database is adopted, not recreated: every table keeps every row", () => {
    const path = copyOfV0();
    const before = rowCounts(path);
    const installation = withDb(path, (db) => db.prepare("SELECT * FROM installation").get());
    new LocalStore(path).close();
    const counts = rowCounts(path);
    // Every table keeps its rows; tables later migrations add start empty.
    assert.deepEqual(Object.fromEntries(Object.keys(before).map((table) => [table, counts[table]])), before);
    assert.ok(Object.entries(counts).every(([table, count]) => table in before || count === 0n));
    assert.deepEqual(
      withDb(path, (db) => db.prepare("SELECT * FROM installation").get()),
      installation,
    );
  });

  it("migration 2 turns every intent into records, keeping its id, state and bytes, and the id sequence", () => {
    const path = copyOfV0();
    const columns = "id, group_id, state, base_epoch, payload_hash, payload, staged_state, welcome, cursor";
    const [before, kinds, sequence] = withDb(path, (db) => [
      db.prepare(`SELECT ${columns} FROM intents ORDER BY id`).all(),
      db.prepare<[], { kind: string }>("SELECT kind FROM intents ORDER BY id").all().map((r) => r.kind),
      db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'intents'").get(),
    ]);
    new LocalStore(path).close();
    withDb(path, (db) => {
      assert.deepEqual(db.prepare(`SELECT ${columns} FROM intents ORDER BY id`).all(), before);
      const operations = db.prepare<[], { operation: Buffer }>("SELECT operation FROM intents ORDER BY id").all();
      assert.deepEqual(
        operations.map((r) => decodeIntentOperation(new Uint8Array(r.operation)).kind),
        kinds,
      );
      assert.deepEqual(db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'intents'").get(), sequence);
    });
    // The Welcome's recipients of the commit left `committed` came through.
    const store = new LocalStore(path);
    try {
      const committed = store.groups().flatMap((g) => store.intents(g.groupId, "committed"));
      assert.equal(committed.length, 1);
      assert.equal(committed[0]?.recipients?.length, 1);
      assert.equal(committed[0]?.recipients?.[0]?.installationKey.length, 32);
    } finally {
      store.close();
    }
  });

  it("an older store's database with fewer tables is adopted, and gains the rest", () => {
    const path = fresh();
    withDb(path, (db) => {
      db.exec(`CREATE TABLE IF NOT EXISTS installation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  inbox_id TEXT NOT NULL,
  address TEXT NOT NULL,
  installation_secret BLOB NOT NULL,
  welcome_cursor INTEGER NOT NULL DEFAULT 0
)`);
      db.prepare("INSERT INTO installation (id, inbox_id, address, installation_secret) VALUES (1, 'inbox', '0xabc', x'01')").run();
    });
    const store = new LocalStore(path);
    try {
      assert.equal(store.installation()?.inboxId, "inbox");
      assert.equal(store.keyPackageCount(), 0);
    } finally {
      store.close();
    }
    assert.equal(userVersion(path), STORE_VERSION);
  });

  it("a database stamped with a newer version is refused with client.store_too_new, and left as it was", async () => {
    const path = fresh();
    new LocalStore(path).close();
    withDb(path, (db) => db.pragma(`user_version = ${STORE_VERSION + 1}`));
    const hash = sha256(path);
    assert.throws(() => new LocalStore(path), hasCode("client.store_too_new"));
    await assert.rejects(Client.create(fixtureSigner("alice"), { apiUrl: "http://127.0.0.1:9", dbPath: path }), hasCode("client.store_too_new"));
    assert.equal(sha256(path), hash);
    assert.equal(userVersion(path), STORE_VERSION + 1);
  });

  it("a database without a version whose tables are not the store's is refused with client.bad_store, and left as it was", () => {
    for (const sql of [
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
      "CREATE TABLE messages (id TEXT PRIMARY KEY, body TEXT)",
    ]) {
      const path = fresh();
      withDb(path, (db) => db.exec(sql));
      const hash = sha256(path);
      assert.throws(() => new LocalStore(path), hasCode("client.bad_store"));
      assert.equal(sha256(path), hash);
      assert.equal(userVersion(path), 0);
    }
    const garbage = fresh();
    // Not whole 4096-byte pages, so not taken for an encrypted database (store-cipher.ts).
    writeFileSync(garbage, "not a database\n".repeat(100));
    assert.throws(() => new LocalStore(garbage), hasCode("client.bad_store"));
  });

  it("a migration that cannot read a row fails whole: the database stays at the version before it, rows and all", () => {
    const path = copyOfV0();
    withDb(path, (db) => db.prepare("UPDATE intents SET params = '{\"key\": 1}' WHERE kind = 'metadata'").run());
    const before = withDb(path, (db) => db.prepare("SELECT * FROM intents ORDER BY id").all());
    for (let attempt = 0; attempt < 2; attempt += 1) {
      assert.throws(() => new LocalStore(path), hasCode("client.bad_store"));
      assert.equal(userVersion(path), 1, "migration 1 ran; migration 2 rolled back");
      assert.deepEqual(
        withDb(path, (db) => db.prepare("SELECT * FROM intents ORDER BY id").all()),
        before,
      );
    }
  });

  it("the store file and its side files are owner-only, and an older store's file is made so", { skip: process.platform === "win32" }, () => {
    const path = fresh();
    const store = new LocalStore(path);
    try {
      store.saveKeyPackage(Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3), 1n);
      assert.equal(mode(path), 0o600);
      assert.ok(existsSync(`${path}-wal`));
      assert.equal(mode(`${path}-wal`), 0o600);
    } finally {
      store.close();
    }
    const old = copyOfV0();
    chmodSync(old, 0o644);
    new LocalStore(old).close();
    assert.equal(mode(old), 0o600);
  });
});
