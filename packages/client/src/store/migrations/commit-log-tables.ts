// Migration 3: the tables of fork detection through XMTP's commit log
// (../shared/spec/xmtp-client.md 3.10, "Commit log"): our own record of each
// epoch we held, the entries of the node's log that passed the checks, and
// per group how far we published and read and whether it forked.
import type Database from "better-sqlite3-multiple-ciphers";

export function createCommitLogTables(db: Database.Database): void {
  db.exec(`
CREATE TABLE commit_log_local (
  group_id BLOB NOT NULL,
  applied_epoch_number INTEGER NOT NULL,
  commit_sequence_id INTEGER NOT NULL,
  last_epoch_authenticator BLOB NOT NULL,
  applied_epoch_authenticator BLOB NOT NULL,
  PRIMARY KEY (group_id, applied_epoch_number)
);
CREATE TABLE commit_log_remote (
  group_id BLOB NOT NULL,
  commit_sequence_id INTEGER NOT NULL,
  applied_epoch_number INTEGER NOT NULL,
  applied_epoch_authenticator BLOB NOT NULL,
  applied INTEGER NOT NULL,
  PRIMARY KEY (group_id, commit_sequence_id)
);
CREATE INDEX commit_log_remote_by_epoch ON commit_log_remote (group_id, applied_epoch_number);
CREATE TABLE commit_log_groups (
  group_id BLOB PRIMARY KEY,
  published_through INTEGER NOT NULL DEFAULT 0,
  read_cursor INTEGER NOT NULL DEFAULT 0,
  forked_epoch INTEGER,
  fork_details TEXT
);
`);
}
