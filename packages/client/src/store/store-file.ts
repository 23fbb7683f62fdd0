// Opening the store's SQLite file: owner-only (it holds the installation
// key and every group's secrets), its version checked before anything is
// written, migrated to the current version (migrations/migrate.ts) with
// forward secrecy on disk already on, then in WAL mode.
import { chmodSync, closeSync, openSync } from "node:fs";
import Database from "better-sqlite3-multiple-ciphers";
import { assertKnownVersion, migrate, storeVersion } from "./migrations/migrate.js";

const OWNER_ONLY = 0o600;
/** SQLite's side files, which take the database file's mode when SQLite creates them. */
const SIDE_FILES = ["-wal", "-shm", "-journal"];

const isMemory = (path: string) => path === ":memory:" || path === "";
const isMissing = (error: unknown) => error instanceof Error && "code" in error && error.code === "ENOENT";
const isExisting = (error: unknown) => error instanceof Error && "code" in error && error.code === "EEXIST";

/** Creates the file owner-only before SQLite would create it with the default mode. */
function createOwnerOnly(path: string): void {
  try {
    closeSync(openSync(path, "wx", OWNER_ONLY));
  } catch (error) {
    if (!isExisting(error)) throw error;
  }
}

/** A file an older version made (with the default mode) is made owner-only, with its side files. */
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
 * Nothing is written to a file before its version is known to be ours, and
 * nothing but the migrations before they succeed: a newer client's
 * database, or another program's, is left as it was.
 *
 * @param path a file, or ":memory:".
 * @throws ClientError `client.store_too_new`, `client.bad_store`; the
 *   errors of better-sqlite3 and node:fs.
 */
export function openStoreFile(path: string): Database.Database {
  if (!isMemory(path)) createOwnerOnly(path);
  const db = new Database(path);
  try {
    db.defaultSafeIntegers(true);
    assertKnownVersion(storeVersion(db));
    // Forward secrecy on disk: a row rewritten or deleted (a migration's
    // dropped table among them) must not leave its old bytes, an older
    // ratchet state, in free pages; see LocalStore.scrub.
    db.pragma("secure_delete = ON");
    migrate(db);
    if (!isMemory(path)) restrictToOwner(path);
    db.pragma("journal_mode = WAL");
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
