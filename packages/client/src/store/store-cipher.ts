// The local database encrypted at rest when the app gives `dbEncryptionKey`
// (the official SDK's option: 32 bytes, or their hex with 0x). The format
// is SQLCipher 4's (AES-256-CBC per 4096-byte page, HMAC-SHA512 over each
// page, a random salt in the first 16 bytes), as SQLite3MultipleCiphers
// writes it (better-sqlite3-multiple-ciphers), the same scheme libxmtp's
// encrypted store uses (crates/xmtp_db/src/
// encrypted_store/database/native/sqlcipher_connection.rs, `PRAGMA key =
// "x'..'"`). The key is raw: it is already 32 random bytes, so no
// passphrase derivation runs. Unlike libxmtp, the whole file is ciphertext
// (no plaintext header, no salt file beside it): nothing on disk says what
// the file is. SQLite3MultipleCiphers encrypts the write-ahead log and
// the rollback journal with the same key.
import type Database from "better-sqlite3-multiple-ciphers";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ClientError } from "../client-error.js";

/** The length of `dbEncryptionKey`, as the official SDK (libxmtp's `EncryptionKey = [u8; 32]`). */
export const STORE_KEY_BYTES = 32;
/** SQLCipher 4's page size: an encrypted database is whole pages of it. */
const SQLCIPHER_PAGE_BYTES = 4096;
/** The first 16 bytes of every plaintext SQLite database (sqlite.org/fileformat.html section 1.3.1). */
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

const HEX_KEY = /^0x([0-9a-fA-F]{64})$/;

/**
 * The key as bytes: a Uint8Array of 32 bytes, or `0x` and their 64 hex
 * digits (the official SDK's `HexString`).
 *
 * @throws ClientError `client.usage` for any other shape or length.
 */
export function storeKeyOf(key: Uint8Array | string | undefined): Uint8Array | undefined {
  if (key === undefined) return undefined;
  if (typeof key === "string") {
    const hex = HEX_KEY.exec(key)?.[1];
    if (hex === undefined) throw new ClientError("client.usage", `dbEncryptionKey as text is 0x and ${STORE_KEY_BYTES * 2} hex digits`);
    return Uint8Array.from(Buffer.from(hex, "hex"));
  }
  if (!(key instanceof Uint8Array) || key.length !== STORE_KEY_BYTES) {
    throw new ClientError("client.usage", `dbEncryptionKey is ${STORE_KEY_BYTES} bytes`);
  }
  return key;
}

/**
 * What a database file is, from its size and first bytes, read before
 * SQLite opens it: nothing is written to decide.
 * - `new`: absent or empty;
 * - `plaintext`: SQLite's own header;
 * - `encrypted`: whole SQLCipher pages whose first bytes are not SQLite's
 *   header (only a key can tell an encrypted database from noise of that size);
 * - `foreign`: anything else, which is not a database.
 */
export type StoreFileKind = "new" | "plaintext" | "encrypted" | "foreign";

export function storeFileKind(path: string): StoreFileKind {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return "new";
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return "new";
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, head, 0, head.length, 0);
    if (read === head.length && head.equals(SQLITE_HEADER)) return "plaintext";
    return size % SQLCIPHER_PAGE_BYTES === 0 ? "encrypted" : "foreign";
  } finally {
    closeSync(fd);
  }
}

/**
 * Keys a connection before its first read, and checks that the SQLite
 * build in use answers as an encrypting one: a plain SQLite ignores
 * `PRAGMA key` silently and would write the secrets in the clear, so that
 * build fails closed. Then the key is tested by reading the schema, which
 * decrypts page 1 (SQLCipher's "testing the key").
 *
 * @throws ClientError `client.store_no_cipher` when the build does not
 *   encrypt; `client.store_wrong_key` when the key does not open the file.
 */
export function applyStoreKey(db: Database.Database, key: Uint8Array): void {
  // The scheme first: the key pragma derives the page keys for it.
  const cipher: unknown = db.pragma("cipher = 'sqlcipher'", { simple: true });
  const legacy: unknown = db.pragma("legacy = 4", { simple: true });
  const hex = Buffer.from(key).toString("hex");
  const keyed: unknown = db.pragma(`key = "x'${hex}'"`, { simple: true });
  if (cipher !== "sqlcipher" || String(legacy) !== "4" || keyed !== "ok") {
    throw new ClientError("client.store_no_cipher", "the SQLite build in use does not encrypt: the database was not opened");
  }
  try {
    db.prepare("SELECT count(*) FROM sqlite_schema").get();
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "SQLITE_NOTADB") {
      throw new ClientError("client.store_wrong_key", "dbEncryptionKey does not open the local database", { cause: error });
    }
    throw error;
  }
}

/**
 * After the first write of a new encrypted database: the file on disk must
 * not start with SQLite's plaintext header, whatever the pragmas answered.
 *
 * @throws ClientError `client.store_no_cipher`.
 */
export function assertEncryptedOnDisk(path: string): void {
  if (storeFileKind(path) !== "encrypted") {
    throw new ClientError("client.store_no_cipher", "the local database was written in the clear although a dbEncryptionKey was given");
  }
}
