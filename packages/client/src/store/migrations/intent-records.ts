// Migration 2: intents keep their operation and their Welcome's recipients
// as typed, versioned records (intent-record.ts) instead of a kind column
// and JSON text. The table is rebuilt (SQLite cannot change a column's
// meaning in place): every row the old store wrote is read with the
// checked legacy reader, written as records with its id, state and bytes
// unchanged, and the id sequence carries on where it was, so an id is
// never reused. A row that does not read fails the migration, which then
// leaves the database as it was (one transaction, migrate.ts).
import type Database from "better-sqlite3-multiple-ciphers";
import { encodeIntentOperation, encodeWelcomeRecipients } from "../intent-record.js";
import { legacyIntentOperation, legacyWelcomeRecipients } from "./legacy-intent-json.js";

const INTENTS_V2 = `
CREATE TABLE intents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_id BLOB NOT NULL,
  operation BLOB NOT NULL,
  state TEXT NOT NULL,
  base_epoch INTEGER NOT NULL,
  payload_hash BLOB NOT NULL,
  payload BLOB,
  staged_state BLOB,
  welcome BLOB,
  recipients BLOB,
  cursor INTEGER
)`;

interface LegacyIntent {
  id: bigint;
  group_id: Buffer;
  kind: string;
  params: string;
  state: string;
  base_epoch: bigint;
  payload_hash: Buffer;
  payload: Buffer | null;
  staged_state: Buffer | null;
  welcome: Buffer | null;
  recipients: string | null;
  cursor: bigint | null;
}

/** @throws ClientError `client.bad_store` for a row the old store did not write. */
export function migrateIntentRecords(db: Database.Database): void {
  db.exec("ALTER TABLE intents RENAME TO intents_v1");
  db.exec(INTENTS_V2);
  const insert = db.prepare(
    "INSERT INTO intents (id, group_id, operation, state, base_epoch, payload_hash, payload, staged_state, welcome, recipients, cursor) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  for (const row of db.prepare<[], LegacyIntent>("SELECT * FROM intents_v1 ORDER BY id").all()) {
    const what = `intent ${row.id}`;
    const operation = encodeIntentOperation(legacyIntentOperation(row.kind, row.params, what));
    const recipients = row.recipients === null ? null : Buffer.from(encodeWelcomeRecipients(legacyWelcomeRecipients(row.recipients, what)));
    insert.run(row.id, row.group_id, Buffer.from(operation), row.state, row.base_epoch, row.payload_hash, row.payload, row.staged_state, row.welcome, recipients, row.cursor);
  }
  const sequence = db.prepare<[], { seq: bigint }>("SELECT seq FROM sqlite_sequence WHERE name = 'intents_v1'").get()?.seq;
  db.exec("DROP TABLE intents_v1");
  db.exec("CREATE INDEX intents_by_group ON intents (group_id, state)");
  if (sequence !== undefined) {
    // The copy set the new sequence to the largest id left; deleted intents may have had larger ones.
    const raised = db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'intents'").run(sequence);
    if (raised.changes === 0) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('intents', ?)").run(sequence);
  }
}
