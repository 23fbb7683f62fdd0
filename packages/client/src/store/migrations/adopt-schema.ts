// Migration 1: the schema of the store before versioned migrations, adopted
// as it was. That store created its tables with CREATE TABLE IF NOT EXISTS
// and stamped no version (user_version 0); its tables were only ever added,
// never changed, so any database it wrote holds a subset of these tables
// with exactly these columns. Such a database is checked and stamped, never
// recreated: the statements below create only what it lacks. A database
// with user_version 0 and any other table, or one of these with other
// columns, was not written by us and is refused. Never edit this text: a
// change to the schema is a new migration.
import Database from "better-sqlite3-multiple-ciphers";
import { ClientError } from "../../client-error.js";

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS installation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  inbox_id TEXT NOT NULL,
  address TEXT NOT NULL,
  installation_secret BLOB NOT NULL,
  welcome_cursor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS key_packages (
  init_key BLOB PRIMARY KEY,
  key_package BLOB NOT NULL,
  private_key_package BLOB NOT NULL,
  created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS intents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_id BLOB NOT NULL,
  kind TEXT NOT NULL,
  params TEXT NOT NULL,
  state TEXT NOT NULL,
  base_epoch INTEGER NOT NULL,
  payload_hash BLOB NOT NULL,
  payload BLOB,
  staged_state BLOB,
  welcome BLOB,
  recipients TEXT,
  cursor INTEGER
);
CREATE INDEX IF NOT EXISTS intents_by_group ON intents (group_id, state);
CREATE TABLE IF NOT EXISTS group_key_updates (
  group_id BLOB PRIMARY KEY,
  committed_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS key_package_uploads (
  init_key BLOB PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS key_package_uses (
  init_key BLOB PRIMARY KEY,
  used_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS group_pauses (
  group_id BLOB PRIMARY KEY,
  version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS group_installation_checks (
  group_id BLOB PRIMARY KEY,
  checked_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
  group_id BLOB PRIMARY KEY,
  state BLOB NOT NULL,
  cursor INTEGER NOT NULL,
  created_ns INTEGER NOT NULL,
  added_by_inbox_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY,
  group_id BLOB NOT NULL,
  sender_inbox_id TEXT NOT NULL,
  sent_at_ns INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  encoded_content BLOB NOT NULL,
  cursor INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_group ON messages (group_id, sent_at_ns);
CREATE TABLE IF NOT EXISTS own_payloads (
  hash BLOB PRIMARY KEY,
  group_id BLOB NOT NULL
);
`;

/** @throws ClientError `client.bad_store` for a database this store did not write. */
export function adoptSchema(db: Database.Database): void {
  assertAdoptable(db);
  db.exec(SCHEMA_V1);
}

/** Each table's columns as one comparable line per column. */
function tableShapes(db: Database.Database): Map<string, string> {
  const names = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    .all()
    .map((row) => row.name);
  const columns = db.prepare<[string], Record<string, unknown>>('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid');
  // String() on every value: the database may read integers as bigints, the reference as numbers.
  return new Map(names.map((name) => [name, columns.all(name).map((c) => [c.name, c.type, c.notnull, c.dflt_value, c.pk].map(String).join(" ")).join("\n")]));
}

function assertAdoptable(db: Database.Database): void {
  const reference = new Database(":memory:");
  let expected: Map<string, string>;
  try {
    reference.exec(SCHEMA_V1);
    expected = tableShapes(reference);
  } finally {
    reference.close();
  }
  for (const [name, shape] of tableShapes(db)) {
    const ours = expected.get(name);
    if (ours === undefined) throw new ClientError("client.bad_store", `the database has a table the client store never made: ${name}`);
    if (ours !== shape) throw new ClientError("client.bad_store", `the database's table ${name} does not have the client store's columns`);
  }
}
