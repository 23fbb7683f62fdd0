// Migration 4: the identity logs we verified (../shared/spec/xmtp-client.md
// section 6; libxmtp keeps them in its `identity_updates` table), so that
// after a restart a lookup asks the node only for what follows them and a
// node cannot serve an older state of an inbox than one we already checked.
import type Database from "better-sqlite3-multiple-ciphers";

export function createIdentityLogTable(db: Database.Database): void {
  db.exec(`
CREATE TABLE identity_updates (
  inbox_id TEXT NOT NULL,
  sequence_id INTEGER NOT NULL,
  server_timestamp_ns INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (inbox_id, sequence_id)
);
`);
}
