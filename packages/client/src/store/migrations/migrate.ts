// The store's versions: `PRAGMA user_version` holds the number of
// migrations applied, and each migration runs in its own transaction with
// the stamp of its version, so a crash leaves the database at one version
// or the next, never between. A fresh database runs them all; a database
// from before versioned migrations (user_version 0) is adopted by the
// first. A database stamped above what this code knows was written by a
// newer client: its rows may mean something else, so it is refused.
// Never edit or reorder a released migration: a change is a new one at the end.
import type Database from "better-sqlite3-multiple-ciphers";
import { ClientError } from "../../client-error.js";
import { adoptSchema } from "./adopt-schema.js";
import { createCommitLogTables } from "./commit-log-tables.js";
import { createIdentityLogTable } from "./identity-log-table.js";
import { createInputAttemptsTable } from "./input-attempts-table.js";
import { migrateIntentRecords } from "./intent-records.js";

interface Migration {
  readonly description: string;
  readonly apply: (db: Database.Database) => void;
}

/** Migration i (from 0) brings the store to version i + 1. */
const MIGRATIONS: readonly Migration[] = [
  { description: "adopt the schema of the store before versioned migrations", apply: adoptSchema },
  { description: "intent operations and welcome recipients as typed, versioned records", apply: migrateIntentRecords },
  { description: "the commit log: our epochs, the node's checked entries, publish and read cursors, fork status", apply: createCommitLogTables },
  { description: "the identity logs we verified, per inbox", apply: createIdentityLogTable },
  { description: "attempts at inputs that failed with a failure of the node's, per group message or welcome", apply: createInputAttemptsTable },
];

/** The store version this code writes and reads. */
export const STORE_VERSION = MIGRATIONS.length;

export function storeVersion(db: Database.Database): number {
  return Number(db.pragma("user_version", { simple: true }));
}

/** @throws ClientError `client.store_too_new` above STORE_VERSION. */
export function assertKnownVersion(version: number): void {
  if (version > STORE_VERSION) {
    throw new ClientError(
      "client.store_too_new",
      `the local database is at store version ${version}, and this client reads up to ${STORE_VERSION}: open it with a newer @parley/client`,
    );
  }
}

/**
 * Brings the database to STORE_VERSION. Each step takes the write lock
 * first (BEGIN IMMEDIATE) and reads the version again inside, so two
 * processes opening one file never run a migration twice.
 *
 * @throws ClientError `client.store_too_new`, `client.bad_store` (from a
 *   migration that finds rows it cannot read; the database stays at the
 *   version before it).
 */
export function migrate(db: Database.Database): void {
  MIGRATIONS.forEach((migration, index) => {
    const target = index + 1;
    db.transaction(() => {
      const current = storeVersion(db);
      assertKnownVersion(current);
      if (current >= target) return;
      migration.apply(db);
      db.pragma(`user_version = ${target}`);
    }).immediate();
  });
}
