// The encryption's decisions on their own: which key shapes are taken,
// what a file is before SQLite opens it, and that a SQLite build which does
// not encrypt (plain better-sqlite3, as the node uses) fails closed instead
// of writing secrets in the clear.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import PlainDatabase from "better-sqlite3";
import Database from "better-sqlite3-multiple-ciphers";
import { ClientError, type ClientErrorCode } from "../client-error.js";
import { applyStoreKey, assertEncryptedOnDisk, storeFileKind, storeKeyOf, type StoreFileKind } from "./store-cipher.js";

const hasCode = (code: ClientErrorCode) => (e: unknown) => e instanceof ClientError && e.code === code;
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

/** A database written by a SQLite that does not encrypt. */
function writePlain(file: string): void {
  const db = new PlainDatabase(file);
  db.exec("CREATE TABLE t (x)");
  db.close();
}

describe("@parley/client store: encryption at rest", () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-store-cipher-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const path = () => join(dir, `f${(n += 1)}.db`);

  it("a key is 32 bytes, or 0x and 64 hex digits; anything else is client.usage", () => {
    assert.deepEqual(storeKeyOf(KEY), KEY);
    assert.deepEqual(storeKeyOf(`0x${Buffer.from(KEY).toString("hex").toUpperCase()}`), KEY);
    assert.equal(storeKeyOf(undefined), undefined);
    const bad: unknown[] = [new Uint8Array(31), new Uint8Array(33), new Uint8Array(64), Buffer.from(KEY).toString("hex"), `0x${"00".repeat(33)}`, "0x", `0x${"g".repeat(64)}`, 42, [...KEY]];
    for (const key of bad) assert.throws(() => storeKeyOf(key as Uint8Array), hasCode("client.usage"), `bad key ${bad.indexOf(key)}`);
  });

  it("a file is told apart before it is opened: new, plaintext SQLite, whole encrypted pages, or not a database", () => {
    const kinds = new Map<string, StoreFileKind>();
    const absent = path();
    kinds.set(absent, "new");
    const empty = path();
    writeFileSync(empty, "");
    kinds.set(empty, "new");
    const plain = path();
    writePlain(plain);
    kinds.set(plain, "plaintext");
    const encrypted = path();
    const db = new Database(encrypted);
    applyStoreKey(db, KEY);
    db.exec("CREATE TABLE t (x)");
    db.close();
    kinds.set(encrypted, "encrypted");
    const text = path();
    writeFileSync(text, "not a database\n".repeat(100));
    kinds.set(text, "foreign");
    for (const [file, kind] of kinds) assert.equal(storeFileKind(file), kind, file);
  });

  it("a SQLite build that does not encrypt is client.store_no_cipher, and so is a file written in the clear", () => {
    const plain = new PlainDatabase(":memory:");
    try {
      assert.throws(() => applyStoreKey(plain as unknown as Database.Database, KEY), hasCode("client.store_no_cipher"));
    } finally {
      plain.close();
    }
    const clear = path();
    writePlain(clear);
    assert.throws(() => assertEncryptedOnDisk(clear), hasCode("client.store_no_cipher"));
  });

  it("a key that does not open the file is client.store_wrong_key", () => {
    const file = path();
    const db = new Database(file);
    applyStoreKey(db, KEY);
    db.exec("CREATE TABLE t (x)");
    db.close();
    const other = new Database(file);
    try {
      assert.throws(() => applyStoreKey(other, KEY.map((b) => b ^ 1)), hasCode("client.store_wrong_key"));
    } finally {
      other.close();
    }
  });
});
