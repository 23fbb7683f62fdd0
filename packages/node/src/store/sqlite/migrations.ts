// The SQLite schema, as an ordered list of migrations. A migration is never
// edited once released: a change is a new entry at the end.
import type Database from "better-sqlite3";

const migrations: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE group_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ns INTEGER NOT NULL,
    group_id BLOB NOT NULL,
    data BLOB NOT NULL,
    sender_hmac BLOB NOT NULL,
    should_push INTEGER NOT NULL,
    is_commit INTEGER NOT NULL,
    content_hash BLOB NOT NULL UNIQUE
  );
  CREATE INDEX group_messages_by_topic ON group_messages (group_id, id);

  CREATE TABLE welcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ns INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('v1', 'pointer')),
    installation_key BLOB NOT NULL,
    data BLOB NOT NULL,
    hpke_public_key BLOB NOT NULL,
    wrapper_algorithm INTEGER NOT NULL,
    welcome_metadata BLOB NOT NULL,
    content_hash BLOB NOT NULL UNIQUE
  );
  CREATE INDEX welcomes_by_topic ON welcomes (installation_key, id);

  CREATE TABLE key_packages (
    installation_key BLOB PRIMARY KEY,
    key_package BLOB NOT NULL,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
  );

  CREATE TABLE identity_updates (
    sequence_id INTEGER PRIMARY KEY AUTOINCREMENT,
    inbox_id TEXT NOT NULL,
    server_timestamp_ns INTEGER NOT NULL,
    update_bytes BLOB NOT NULL
  );
  CREATE INDEX identity_updates_by_inbox ON identity_updates (inbox_id, sequence_id);

  CREATE TABLE address_log (
    address TEXT NOT NULL,
    inbox_id TEXT NOT NULL,
    association_sequence_id INTEGER NOT NULL,
    revocation_sequence_id INTEGER
  );
  CREATE INDEX address_log_by_address ON address_log (address, association_sequence_id);

  CREATE TABLE commit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ns INTEGER NOT NULL,
    group_id BLOB NOT NULL,
    entry BLOB NOT NULL,
    signature BLOB NOT NULL
  );
  CREATE INDEX commit_log_by_topic ON commit_log (group_id, id);
  `,
  // 2: a key package's lifetime start, so that an older one cannot replace
  // a newer (0 for those stored before: any real one replaces them).
  `
  ALTER TABLE key_packages ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: retention deletes by age, oldest first.
  `
  CREATE INDEX group_messages_by_time ON group_messages (created_ns);
  CREATE INDEX welcomes_by_time ON welcomes (created_ns);
  CREATE INDEX commit_log_by_time ON commit_log (created_ns);
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = migrations.length;

/**
 * Brings the database to SCHEMA_VERSION, one transaction per migration.
 * Refuses a database written by a newer version rather than guessing.
 */
export function migrate(db: Database.Database, nowNs: () => bigint): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_ns INTEGER NOT NULL
  )`);
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_migrations").get() as {
    version: number | bigint | null;
  };
  const current = Number(row.version ?? 0);
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema ${current} is newer than this node's ${SCHEMA_VERSION}`);
  }
  const record = db.prepare("INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)");
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(migrations[version - 1] ?? "");
      record.run(version, nowNs());
    })();
  }
}
