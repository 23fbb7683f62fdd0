// Migration 4: the attempts at an input (a group message or a welcome)
// whose processing failed with a failure of the node's, counted per input
// so that the bound of incoming/incoming-failure.ts retryOrGiveUp holds
// across restarts. `scope` is the group id for a group message, empty for a
// welcome (one welcome topic per installation).
import type Database from "better-sqlite3-multiple-ciphers";

export function createInputAttemptsTable(db: Database.Database): void {
  db.exec(`
CREATE TABLE input_attempts (
  kind TEXT NOT NULL,
  scope BLOB NOT NULL,
  cursor INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_ns INTEGER NOT NULL,
  PRIMARY KEY (kind, scope, cursor)
);
`);
}
