// The local store of one installation (issue 6 point 7): SQLite through
// better-sqlite3. It holds the installation's keys, the private halves of
// its key packages, each group's MLS state blob (the @parley/mls state
// codec) with its cursor, the decoded messages, and the hashes of payloads
// we published (our own messages come back from the node and must not be
// processed again). A group's state and cursor are written in one statement,
// so a restart resumes from a cursor that matches its state.
import Database from "better-sqlite3";
import { ClientError } from "../client-error.js";

export interface InstallationRow {
  readonly inboxId: string;
  readonly address: string;
  readonly installationSecret: Uint8Array;
  readonly welcomeCursor: bigint;
}

export interface GroupRow {
  readonly groupId: Uint8Array;
  readonly state: Uint8Array;
  readonly cursor: bigint;
  readonly createdNs: bigint;
  readonly addedByInboxId: string;
}

/**
 * A change to a group (a commit, or a message), written before it is
 * published (section 3.8). A commit is `published` until it is seen in the
 * node's order, then `committed` (it won its epoch; the staged state was
 * merged) or `lost` (another commit came first), `done` once its welcomes
 * are sent, `superseded` when a new attempt replaced a lost one. A message
 * is `published` until the node acknowledges it, then `acknowledged` until
 * it comes back (and is deleted).
 */
export type IntentState = "published" | "acknowledged" | "committed" | "lost" | "done" | "superseded";

export interface IntentRow {
  readonly id: bigint;
  readonly groupId: Uint8Array;
  /** What to regenerate on a new epoch: the operation and its parameters (JSON). */
  readonly kind: string;
  readonly params: string;
  readonly state: IntentState;
  readonly baseEpoch: bigint;
  readonly payloadHash: Uint8Array;
  /** The commit, the group state it leads to, and the Welcome with its recipients; cleared once done. */
  readonly payload: Uint8Array | undefined;
  readonly stagedState: Uint8Array | undefined;
  readonly welcome: Uint8Array | undefined;
  /** JSON: [{ installationKey, initKey }] in hex. */
  readonly recipients: string | undefined;
  /** The node's id of the commit, once seen. */
  readonly cursor: bigint | undefined;
}

export interface StoredMessage {
  /** Hex message id (sha256 of group id, idempotency key and content). */
  readonly id: string;
  readonly groupId: Uint8Array;
  readonly senderInboxId: string;
  readonly sentAtNs: bigint;
  /** `authority/type:major.minor`. */
  readonly contentType: string;
  /** The EncodedContent protobuf. */
  readonly encodedContent: Uint8Array;
  /** The node's id of the envelope, 0 for what we sent before it came back. */
  readonly cursor: bigint;
}

const SCHEMA = `
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

export class LocalStore {
  readonly #db: Database.Database;

  /** @param path a file, or ":memory:". @throws ClientError `client.bad_store` */
  constructor(path: string) {
    try {
      this.#db = new Database(path);
      this.#db.defaultSafeIntegers(true);
      this.#db.pragma("journal_mode = WAL");
      // Forward secrecy on disk: a row rewritten or deleted must not leave
      // its old bytes (an older ratchet state) in free pages; see scrub().
      this.#db.pragma("secure_delete = ON");
      this.#db.exec(SCHEMA);
    } catch (error) {
      throw new ClientError("client.bad_store", "cannot open the local database", { cause: error });
    }
  }

  close(): void {
    this.#db.close();
  }

  /**
   * Folds the write-ahead log into the database and truncates it: until
   * then the log keeps every page version written, old ratchet states
   * among them. Called after each batch of processed or sent messages.
   */
  scrub(): void {
    this.#db.pragma("wal_checkpoint(TRUNCATE)");
  }

  transaction<T>(run: () => T): T {
    return this.#db.transaction(run)();
  }

  installation(): InstallationRow | undefined {
    const row = this.#db.prepare("SELECT inbox_id, address, installation_secret, welcome_cursor FROM installation WHERE id = 1").get() as
      | { inbox_id: string; address: string; installation_secret: Buffer; welcome_cursor: bigint }
      | undefined;
    if (row === undefined) return undefined;
    return {
      inboxId: row.inbox_id,
      address: row.address,
      installationSecret: new Uint8Array(row.installation_secret),
      welcomeCursor: row.welcome_cursor,
    };
  }

  saveInstallation(row: Omit<InstallationRow, "welcomeCursor">): void {
    this.#db
      .prepare("INSERT INTO installation (id, inbox_id, address, installation_secret) VALUES (1, ?, ?, ?)")
      .run(row.inboxId, row.address, Buffer.from(row.installationSecret));
  }

  setWelcomeCursor(cursor: bigint): void {
    this.#db.prepare("UPDATE installation SET welcome_cursor = ? WHERE id = 1").run(cursor);
  }

  saveKeyPackage(initKey: Uint8Array, keyPackage: Uint8Array, privateKeyPackage: Uint8Array, createdNs: bigint): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO key_packages (init_key, key_package, private_key_package, created_ns) VALUES (?, ?, ?, ?)")
      .run(Buffer.from(initKey), Buffer.from(keyPackage), Buffer.from(privateKeyPackage), createdNs);
  }

  keyPackage(initKey: Uint8Array): { keyPackage: Uint8Array; privateKeyPackage: Uint8Array } | undefined {
    const row = this.#db.prepare("SELECT key_package, private_key_package FROM key_packages WHERE init_key = ?").get(Buffer.from(initKey)) as
      | { key_package: Buffer; private_key_package: Buffer }
      | undefined;
    return row === undefined
      ? undefined
      : { keyPackage: new Uint8Array(row.key_package), privateKeyPackage: new Uint8Array(row.private_key_package) };
  }

  markKeyPackageUploaded(initKey: Uint8Array): void {
    this.#db.prepare("INSERT OR IGNORE INTO key_package_uploads (init_key) VALUES (?)").run(Buffer.from(initKey));
  }

  /** The newest key package when the node has not confirmed its upload (the call failed or its answer was lost). */
  newestKeyPackageNotUploaded(): { initKey: Uint8Array; keyPackage: Uint8Array } | undefined {
    const row = this.#db
      .prepare(
        "SELECT init_key, key_package FROM key_packages WHERE init_key NOT IN (SELECT init_key FROM key_package_uploads) " +
          "AND created_ns = (SELECT max(created_ns) FROM key_packages)",
      )
      .get() as { init_key: Buffer; key_package: Buffer } | undefined;
    return row === undefined ? undefined : { initKey: new Uint8Array(row.init_key), keyPackage: new Uint8Array(row.key_package) };
  }

  /** A welcome opened with this key package: whoever fetched it knows we joined something. */
  markKeyPackageUsed(initKey: Uint8Array, ns: bigint): void {
    this.#db.prepare("INSERT OR IGNORE INTO key_package_uses (init_key, used_ns) VALUES (?, ?)").run(Buffer.from(initKey), ns);
  }

  /** Whether the newest key package (the one the node hands out) was used by a welcome. */
  newestKeyPackageUsed(): boolean {
    const row = this.#db
      .prepare(
        "SELECT 1 FROM key_package_uses WHERE init_key = (SELECT init_key FROM key_packages ORDER BY created_ns DESC LIMIT 1)",
      )
      .get();
    return row !== undefined;
  }

  /** When the newest key package was made; undefined before the first. */
  newestKeyPackageNs(): bigint | undefined {
    const row = this.#db.prepare("SELECT max(created_ns) AS ns FROM key_packages").get() as { ns: bigint | null };
    return row.ns ?? undefined;
  }

  /**
   * Deletes every key package that a newer one, made at or before
   * `cutoffNs`, replaced: welcomes wrapped to it had until then to arrive.
   * @returns how many were deleted
   */
  deleteKeyPackagesReplacedBefore(cutoffNs: bigint): number {
    return Number(
      this.#db
        .prepare("DELETE FROM key_packages WHERE created_ns < (SELECT max(created_ns) FROM key_packages WHERE created_ns <= ?)")
        .run(cutoffNs).changes,
    );
  }

  keyPackageCount(): number {
    const row = this.#db.prepare("SELECT count(*) AS n FROM key_packages").get() as { n: bigint };
    return Number(row.n);
  }

  group(groupId: Uint8Array): GroupRow | undefined {
    const row = this.#db.prepare("SELECT * FROM groups WHERE group_id = ?").get(Buffer.from(groupId)) as RawGroup | undefined;
    return row === undefined ? undefined : groupRow(row);
  }

  insertIntent(row: Omit<IntentRow, "id" | "state" | "cursor">): bigint {
    const info = this.#db
      .prepare(
        "INSERT INTO intents (group_id, kind, params, state, base_epoch, payload_hash, payload, staged_state, welcome, recipients) " +
          "VALUES (?, ?, ?, 'published', ?, ?, ?, ?, ?, ?)",
      )
      .run(
        Buffer.from(row.groupId),
        row.kind,
        row.params,
        row.baseEpoch,
        Buffer.from(row.payloadHash),
        row.payload === undefined ? null : Buffer.from(row.payload),
        row.stagedState === undefined ? null : Buffer.from(row.stagedState),
        row.welcome === undefined ? null : Buffer.from(row.welcome),
        row.recipients ?? null,
      );
    return BigInt(info.lastInsertRowid);
  }

  intent(id: bigint): IntentRow | undefined {
    const row = this.#db.prepare("SELECT * FROM intents WHERE id = ?").get(id) as RawIntent | undefined;
    return row === undefined ? undefined : intentRow(row);
  }

  /** The group's intents in one state, oldest first. */
  intents(groupId: Uint8Array, state: IntentState): IntentRow[] {
    return (this.#db.prepare("SELECT * FROM intents WHERE group_id = ? AND state = ? ORDER BY id").all(Buffer.from(groupId), state) as RawIntent[]).map(
      intentRow,
    );
  }

  /** Whether the group has intents an earlier run left to finish (published, committed or lost). */
  hasUnfinishedIntents(groupId: Uint8Array): boolean {
    return (
      this.#db.prepare("SELECT 1 FROM intents WHERE group_id = ? AND state IN ('published', 'committed', 'lost') LIMIT 1").get(Buffer.from(groupId)) !==
      undefined
    );
  }

  publishedIntentByHash(groupId: Uint8Array, hash: Uint8Array): IntentRow | undefined {
    const row = this.#db
      .prepare("SELECT * FROM intents WHERE group_id = ? AND payload_hash = ? AND state IN ('published', 'acknowledged')")
      .get(Buffer.from(groupId), Buffer.from(hash)) as RawIntent | undefined;
    return row === undefined ? undefined : intentRow(row);
  }

  deleteIntent(id: bigint): void {
    this.#db.prepare("DELETE FROM intents WHERE id = ?").run(id);
  }

  /** Moves an intent on; `done` and `superseded` drop its payload, staged state and welcome (secrets). */
  setIntentState(id: bigint, state: IntentState, cursor?: bigint): void {
    const finished = state === "done" || state === "superseded";
    this.#db
      .prepare(
        "UPDATE intents SET state = ?, cursor = coalesce(?, cursor)" +
          (finished ? ", payload = NULL, staged_state = NULL, welcome = NULL, recipients = NULL" : "") +
          " WHERE id = ?",
      )
      .run(state, cursor ?? null, id);
  }

  /** The protocol version the group waits for (a commit raised it above ours); undefined when not paused. */
  pausedForVersion(groupId: Uint8Array): string | undefined {
    const row = this.#db.prepare("SELECT version FROM group_pauses WHERE group_id = ?").get(Buffer.from(groupId)) as { version: string } | undefined;
    return row?.version;
  }

  setPausedForVersion(groupId: Uint8Array, version: string | undefined): void {
    if (version === undefined) this.#db.prepare("DELETE FROM group_pauses WHERE group_id = ?").run(Buffer.from(groupId));
    else this.#db.prepare("INSERT OR REPLACE INTO group_pauses (group_id, version) VALUES (?, ?)").run(Buffer.from(groupId), version);
  }

  /** When the periodic membership check last ran for the group; undefined if never. */
  installationsCheckedNs(groupId: Uint8Array): bigint | undefined {
    const row = this.#db.prepare("SELECT checked_ns FROM group_installation_checks WHERE group_id = ?").get(Buffer.from(groupId)) as
      | { checked_ns: bigint }
      | undefined;
    return row?.checked_ns;
  }

  setInstallationsCheckedNs(groupId: Uint8Array, ns: bigint): void {
    this.#db.prepare("INSERT OR REPLACE INTO group_installation_checks (group_id, checked_ns) VALUES (?, ?)").run(Buffer.from(groupId), ns);
  }

  /** When our last commit in the group (each one carries a path) was merged; undefined if never. */
  lastOwnCommitNs(groupId: Uint8Array): bigint | undefined {
    const row = this.#db.prepare("SELECT committed_ns FROM group_key_updates WHERE group_id = ?").get(Buffer.from(groupId)) as
      | { committed_ns: bigint }
      | undefined;
    return row?.committed_ns;
  }

  setLastOwnCommitNs(groupId: Uint8Array, ns: bigint): void {
    this.#db.prepare("INSERT OR REPLACE INTO group_key_updates (group_id, committed_ns) VALUES (?, ?)").run(Buffer.from(groupId), ns);
  }

  groups(): GroupRow[] {
    return (this.#db.prepare("SELECT * FROM groups ORDER BY created_ns").all() as RawGroup[]).map(groupRow);
  }

  insertGroup(row: GroupRow): void {
    this.#db
      .prepare("INSERT INTO groups (group_id, state, cursor, created_ns, added_by_inbox_id) VALUES (?, ?, ?, ?, ?)")
      .run(Buffer.from(row.groupId), Buffer.from(row.state), row.cursor, row.createdNs, row.addedByInboxId);
  }

  /** State and cursor together: they must never disagree. */
  updateGroup(groupId: Uint8Array, state: Uint8Array, cursor: bigint): void {
    this.#db.prepare("UPDATE groups SET state = ?, cursor = ? WHERE group_id = ?").run(Buffer.from(state), cursor, Buffer.from(groupId));
  }

  /** Inserts once: the same message id stored twice keeps the first. */
  /** Moves the group's cursor past an envelope that left its state as it was. */
  setCursor(groupId: Uint8Array, cursor: bigint): void {
    this.#db.prepare("UPDATE groups SET cursor = ? WHERE group_id = ?").run(cursor, Buffer.from(groupId));
  }

  /** Our message came back from the node: it takes the node's time and cursor, as the receivers see it. */
  markMessagePublished(id: string, sentAtNs: bigint, cursor: bigint): void {
    this.#db.prepare("UPDATE messages SET sent_at_ns = ?, cursor = ? WHERE id = ?").run(sentAtNs, cursor, id);
  }

  insertMessage(m: StoredMessage): void {
    this.#db
      .prepare(
        "INSERT OR IGNORE INTO messages (id, group_id, sender_inbox_id, sent_at_ns, content_type, encoded_content, cursor) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(m.id, Buffer.from(m.groupId), m.senderInboxId, m.sentAtNs, m.contentType, Buffer.from(m.encodedContent), m.cursor);
  }

  /**
   * @param groupId one group, or several (a DM and its duplicates, read as one).
   * @param q.contentType only this type; `q.excludeContentType` all but this one.
   */
  messages(groupId: Uint8Array | readonly Uint8Array[], q: MessageQuery = {}): StoredMessage[] {
    const ids = (groupId instanceof Uint8Array ? [groupId] : groupId).map((g) => Buffer.from(g));
    const rows = this.#db
      .prepare(
        `SELECT * FROM messages WHERE group_id IN (${ids.map(() => "?").join(", ")}) AND sent_at_ns > ? AND sent_at_ns < ?
         AND (? IS NULL OR content_type = ?) AND (? IS NULL OR content_type != ?)
         ORDER BY sent_at_ns ${q.descending === true ? "DESC" : "ASC"}, rowid ${q.descending === true ? "DESC" : "ASC"} LIMIT ?`,
      )
      .all(
        ...ids,
        q.sentAfterNs ?? -1n,
        q.sentBeforeNs ?? 2n ** 62n,
        q.contentType ?? null,
        q.contentType ?? null,
        q.excludeContentType ?? null,
        q.excludeContentType ?? null,
        BigInt(q.limit ?? -1),
      ) as RawMessage[];
    return rows.map(messageRow);
  }

  message(id: string): StoredMessage | undefined {
    const r = this.#db.prepare("SELECT * FROM messages WHERE id = ?").get(id) as RawMessage | undefined;
    return r === undefined ? undefined : messageRow(r);
  }

  addOwnPayload(hash: Uint8Array, groupId: Uint8Array): void {
    this.#db.prepare("INSERT OR IGNORE INTO own_payloads (hash, group_id) VALUES (?, ?)").run(Buffer.from(hash), Buffer.from(groupId));
  }

  isOwnPayload(hash: Uint8Array): boolean {
    return this.#db.prepare("SELECT 1 FROM own_payloads WHERE hash = ?").get(Buffer.from(hash)) !== undefined;
  }
}

interface RawIntent {
  id: bigint;
  group_id: Buffer;
  kind: string;
  params: string;
  state: IntentState;
  base_epoch: bigint;
  payload_hash: Buffer;
  payload: Buffer | null;
  staged_state: Buffer | null;
  welcome: Buffer | null;
  recipients: string | null;
  cursor: bigint | null;
}

const bytesOrUndefined = (b: Buffer | null) => (b === null ? undefined : new Uint8Array(b));

function intentRow(r: RawIntent): IntentRow {
  return {
    id: r.id,
    groupId: new Uint8Array(r.group_id),
    kind: r.kind,
    params: r.params,
    state: r.state,
    baseEpoch: r.base_epoch,
    payloadHash: new Uint8Array(r.payload_hash),
    payload: bytesOrUndefined(r.payload),
    stagedState: bytesOrUndefined(r.staged_state),
    welcome: bytesOrUndefined(r.welcome),
    recipients: r.recipients ?? undefined,
    cursor: r.cursor ?? undefined,
  };
}

export interface MessageQuery {
  readonly limit?: number;
  readonly descending?: boolean;
  readonly sentAfterNs?: bigint;
  readonly sentBeforeNs?: bigint;
  readonly contentType?: string;
  readonly excludeContentType?: string;
}

interface RawGroup {
  group_id: Buffer;
  state: Buffer;
  cursor: bigint;
  created_ns: bigint;
  added_by_inbox_id: string;
}

interface RawMessage {
  id: string;
  group_id: Buffer;
  sender_inbox_id: string;
  sent_at_ns: bigint;
  content_type: string;
  encoded_content: Buffer;
  cursor: bigint;
}

function groupRow(r: RawGroup): GroupRow {
  return {
    groupId: new Uint8Array(r.group_id),
    state: new Uint8Array(r.state),
    cursor: r.cursor,
    createdNs: r.created_ns,
    addedByInboxId: r.added_by_inbox_id,
  };
}

function messageRow(r: RawMessage): StoredMessage {
  return {
    id: r.id,
    groupId: new Uint8Array(r.group_id),
    senderInboxId: r.sender_inbox_id,
    sentAtNs: r.sent_at_ns,
    contentType: r.content_type,
    encodedContent: new Uint8Array(r.encoded_content),
    cursor: r.cursor,
  };
}
