// The identity log entries we verified, per inbox (the table of
// migrations/identity-log-table.ts): the node's sequence id and time of each
// and the IdentityUpdate as protobuf bytes. They are verified again when a
// run first reads them (identity/inbox-history.ts): the file is no more
// trusted than the node.
import type Database from "better-sqlite3-multiple-ciphers";
import { blob, bytesOf } from "./sql-values.js";

export interface StoredIdentityUpdate {
  readonly sequenceId: bigint;
  readonly serverTimestampNs: bigint;
  readonly payload: Uint8Array;
}

interface Row {
  sequence_id: bigint;
  server_timestamp_ns: bigint;
  payload: Buffer;
}

export class IdentityLogStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** The inbox's entries, oldest first. */
  identityUpdates(inboxId: string): StoredIdentityUpdate[] {
    return this.#db
      .prepare<[string], Row>("SELECT sequence_id, server_timestamp_ns, payload FROM identity_updates WHERE inbox_id = ? ORDER BY sequence_id")
      .all(inboxId)
      .map((r) => ({ sequenceId: r.sequence_id, serverTimestampNs: r.server_timestamp_ns, payload: bytesOf(r.payload) }));
  }

  /** Adds entries that follow those stored (an entry already stored stays as it is). */
  appendIdentityUpdates(inboxId: string, entries: readonly StoredIdentityUpdate[]): void {
    const insert = this.#db.prepare(
      "INSERT OR IGNORE INTO identity_updates (inbox_id, sequence_id, server_timestamp_ns, payload) VALUES (?, ?, ?, ?)",
    );
    this.#db.transaction(() => {
      for (const e of entries) insert.run(inboxId, e.sequenceId, e.serverTimestampNs, blob(e.payload));
    })();
  }

  /** Forgets an inbox's entries (a stored log that no longer verifies is fetched again whole). */
  deleteIdentityUpdates(inboxId: string): void {
    this.#db.prepare("DELETE FROM identity_updates WHERE inbox_id = ?").run(inboxId);
  }
}
