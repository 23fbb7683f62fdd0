// SQLite's native addon missing, as after an install with scripts off,
// simulated without touching node_modules: the store is given the
// library's own `nativeBinding` option naming a binary that is not there,
// which fails in the loader as the missing build does. The open is a typed
// error that names the package and the remedy, and no file is made; an
// existing database is left as it was. A file an open made is removed when
// the open fails later (a SQLite without the cipher, given a key).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ClientError, type ClientErrorCode } from "../client-error.js";
import { LocalStore } from "./local-store.js";

const KEY = new Uint8Array(32).fill(7);
const hasCode = (code: ClientErrorCode) => (e: unknown) => e instanceof ClientError && e.code === code;
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("@parley/client store: SQLite's native addon", () => {
  let root: string;
  let n = 0;
  let missing: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "parley-native-"));
    missing = join(root, "not-built", "better_sqlite3.node");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A folder of its own, so that every file in it is the store's. */
  function folder(): string {
    const dir = join(root, `d${(n += 1)}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  it("a binary that is not there is client.no_native_sqlite, naming the package and the remedy, and no file is made", () => {
    for (const key of [undefined, KEY]) {
      const dir = folder();
      let thrown: unknown;
      try {
        new LocalStore(join(dir, "alice.db3"), key, { nativeBinding: missing }).close();
      } catch (error) {
        thrown = error;
      }
      assert.ok(hasCode("client.no_native_sqlite")(thrown), `got ${String(thrown)}`);
      const { message, cause } = thrown as ClientError;
      assert.match(message, /better-sqlite3-multiple-ciphers/);
      assert.match(message, /scripts enabled/);
      assert.match(message, /npm rebuild better-sqlite3-multiple-ciphers/);
      assert.ok(cause instanceof Error, "the loader's error is kept as the cause");
      assert.deepEqual(readdirSync(dir), [], "no database file, no side file");
    }
    assert.throws(() => new LocalStore(":memory:", undefined, { nativeBinding: missing }), hasCode("client.no_native_sqlite"));
  });

  it("an existing database is left as it was, and opens once the addon loads", () => {
    const path = join(folder(), "alice.db3");
    const store = new LocalStore(path);
    store.setWelcomeCursor(0n);
    store.close();
    const before = sha256(path);
    assert.throws(() => new LocalStore(path, undefined, { nativeBinding: missing }), hasCode("client.no_native_sqlite"));
    assert.equal(sha256(path), before);
    new LocalStore(path).close();
  });

  it("a file the open made is removed when the open fails after making it; one that was there is kept", () => {
    // Plain better-sqlite3's binary: a SQLite that ignores PRAGMA key, so a keyed open fails after the file is made.
    const plain = join(dirname(createRequire(import.meta.url).resolve("better-sqlite3/package.json")), "build", "Release", "better_sqlite3.node");
    assert.ok(existsSync(plain), "plain better-sqlite3 is built");
    const dir = folder();
    const path = join(dir, "alice.db3");
    assert.throws(() => new LocalStore(path, KEY, { nativeBinding: plain }), hasCode("client.store_no_cipher"));
    assert.deepEqual(readdirSync(dir), [], "the file made for it is gone");

    const kept = join(folder(), "kept.db3");
    new LocalStore(kept, KEY).close();
    assert.throws(() => new LocalStore(kept, KEY, { nativeBinding: plain }), (e: unknown) => e instanceof ClientError);
    assert.ok(existsSync(kept), "a database that was there is never removed");
    new LocalStore(kept, KEY).close();
  });
});
