// Opening the store's SQLite file: owner-only from its first byte (it holds
// the installation key and every group's secrets), encrypted when the app
// gives a key (store-cipher.ts), its version checked before anything is
// written, migrated to the current version (migrations/migrate.ts) with
// forward secrecy on disk already on, then in WAL mode. The native addon is
// checked first (native-sqlite.ts), and a file this open made is removed
// again when the open fails: a failed start leaves nothing behind.
import { chmodSync, closeSync, existsSync, openSync, rmSync } from "node:fs";
import Database from "better-sqlite3-multiple-ciphers";
import { ClientError } from "../client-error.js";
import { assertKnownVersion, migrate, storeVersion } from "./migrations/migrate.js";
import { assertNativeSqlite, databaseOptions, type NativeSqlite } from "./native-sqlite.js";
import { applyStoreKey, assertEncryptedOnDisk, storeFileKind, storeKeyOf } from "./store-cipher.js";

const OWNER_ONLY = 0o600;
/** SQLite's side files, which take the database file's mode when SQLite creates them. */
const SIDE_FILES = ["-wal", "-shm", "-journal"];

const isMemory = (path: string) => path === ":memory:" || path === "";
const isMissing = (error: unknown) => error instanceof Error && "code" in error && error.code === "ENOENT";
const isExisting = (error: unknown) => error instanceof Error && "code" in error && error.code === "EEXIST";

/**
 * An existing file looser than owner-only (one an older version made, or
 * one copied in) is tightened, with its side files, before SQLite opens
 * it: it is the user's own database, and refusing it would only lock them
 * out of it. Only the mode changes, never a byte.
 */
function restrictToOwner(path: string): void {
  for (const file of [path, ...SIDE_FILES.map((suffix) => path + suffix)]) {
    try {
      chmodSync(file, OWNER_ONLY);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
}

/**
 * Creates the file owner-only (the mode given at open, so there is no
 * moment it is readable by others) before SQLite would create it with the
 * default mode; SQLite gives its side files the same mode. Answers the
 * files this call made, the database's side files included once SQLite
 * makes them (the ones absent now), or none when the file was there.
 */
function createOwnerOnly(path: string): string[] {
  const absentSides = SIDE_FILES.map((suffix) => path + suffix).filter((file) => !existsSync(file));
  try {
    closeSync(openSync(path, "wx", OWNER_ONLY));
  } catch (error) {
    if (!isExisting(error)) throw error;
    return [];
  }
  return [path, ...absentSides];
}

/** Removes the files a failed open made; never one that was there before it. */
function removeMade(files: readonly string[]): void {
  for (const file of files) rmSync(file, { force: true });
}

/**
 * Which key a file takes, decided from the file before SQLite opens it: a
 * key for a database written without one, or none for one that looks
 * encrypted, is refused with nothing read or written.
 */
function assertKeyFits(path: string, key: Uint8Array | undefined): void {
  const kind = storeFileKind(path);
  if (key !== undefined && kind === "plaintext") {
    throw new ClientError("client.store_not_encrypted", "the local database was written without a dbEncryptionKey: open it without one");
  }
  if (key === undefined && kind === "encrypted") {
    throw new ClientError("client.store_encrypted", "the local database is encrypted (or not a database): give its dbEncryptionKey");
  }
  if (kind === "foreign") throw new ClientError("client.bad_store", "the file is not a database");
}

/**
 * Nothing is written to a file before its key and version are known to be
 * right, and nothing but the migrations before they succeed: a newer
 * client's database, another program's, or one opened with the wrong key
 * is left as it was.
 *
 * @param path a file, or ":memory:" (a key is checked, and nothing is at rest).
 * @param key `dbEncryptionKey`: 32 bytes, or 0x and their hex.
 * @param native where the SQLite addon comes from (tests only).
 * @throws ClientError `client.usage` for a key of another shape;
 *   `client.no_native_sqlite` (native-sqlite.ts), before any file is touched;
 *   `client.store_wrong_key`, `client.store_encrypted`,
 *   `client.store_not_encrypted`, `client.store_no_cipher` (store-cipher.ts);
 *   `client.store_too_new`, `client.bad_store`; the errors of SQLite and node:fs.
 */
export function openStoreFile(path: string, key?: Uint8Array | string, native: NativeSqlite = {}): Database.Database {
  const storeKey = storeKeyOf(key);
  assertNativeSqlite(native);
  const onDisk = !isMemory(path);
  let made: string[] = [];
  if (onDisk) {
    restrictToOwner(path);
    assertKeyFits(path, storeKey);
    made = createOwnerOnly(path);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, databaseOptions(native));
    if (onDisk && storeKey !== undefined) applyStoreKey(db, storeKey);
    db.defaultSafeIntegers(true);
    assertKnownVersion(storeVersion(db));
    // Forward secrecy on disk: a row rewritten or deleted (a migration's
    // dropped table among them) must not leave its old bytes, an older
    // ratchet state, in free pages; see LocalStore.scrub.
    db.pragma("secure_delete = ON");
    // Sorts and temporary tables stay in memory: SQLite's temporary files
    // are not encrypted.
    db.pragma("temp_store = MEMORY");
    migrate(db);
    if (onDisk && storeKey !== undefined) assertEncryptedOnDisk(path);
    db.pragma("journal_mode = WAL");
    return db;
  } catch (error) {
    db?.close();
    removeMade(made);
    throw error;
  }
}
