// The embedded store: one SQLite file (better-sqlite3), WAL with
// synchronous=FULL so that a committed write survives power loss, writes
// grouped into shared transactions by WriteQueue. SQLite has one writer, so
// ids are handed out in commit order, which is what keeps readers that
// follow a topic by `id > cursor` from skipping anything.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { contentHash } from "../content-hash.js";
import type {
  AppendIdentityResult,
  CommitLogRecord,
  ExpiredCounts,
  ExpiryCutoff,
  RecordSize,
  GroupMessageRecord,
  IdentityUpdateRecord,
  NewCommitLogEntry,
  NewGroupMessage,
  NewIdentityUpdate,
  NewWelcome,
  Page,
  Store,
  WelcomeKind,
  WelcomeRecord,
} from "../store.js";
import { migrate } from "./migrations.js";
import { WriteQueue } from "./write-queue.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:" for a throwaway store. */
  readonly path: string;
  /** The clock for created_ns and server timestamps. */
  readonly nowNs?: () => bigint;
}

const wallClockNs = () => BigInt(Date.now()) * 1_000_000n;

type Row = Record<string, unknown>;

// A view of the Buffer SQLite gave (a plain Uint8Array, as the Store
// contract has it), never a copy: an answer of 25 MiB would otherwise be
// held twice before it is even encoded.
const bytes = (value: unknown) => {
  const buffer = value as Buffer;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
};
const big = (value: unknown) => BigInt(value as bigint | number);
const sum = (sizes: readonly number[]) => sizes.reduce((a, b) => a + b, 0);

function groupMessageFrom(row: Row): GroupMessageRecord {
  return {
    id: big(row.id),
    createdNs: big(row.created_ns),
    groupId: bytes(row.group_id),
    data: bytes(row.data),
    senderHmac: bytes(row.sender_hmac),
    shouldPush: big(row.should_push) !== 0n,
    isCommit: big(row.is_commit) !== 0n,
  };
}

function welcomeFrom(row: Row): WelcomeRecord {
  return {
    id: big(row.id),
    createdNs: big(row.created_ns),
    kind: row.kind as WelcomeKind,
    installationKey: bytes(row.installation_key),
    data: bytes(row.data),
    hpkePublicKey: bytes(row.hpke_public_key),
    wrapperAlgorithm: Number(row.wrapper_algorithm),
    welcomeMetadata: bytes(row.welcome_metadata),
  };
}

function identityUpdateFrom(row: Row): IdentityUpdateRecord {
  return {
    sequenceId: big(row.sequence_id),
    inboxId: row.inbox_id as string,
    serverTimestampNs: big(row.server_timestamp_ns),
    update: bytes(row.update_bytes),
  };
}

function commitLogFrom(row: Row): CommitLogRecord {
  return {
    id: big(row.id),
    groupId: bytes(row.group_id),
    entry: bytes(row.entry),
    signature: bytes(row.signature),
  };
}

/** `id > cursor ASC` or `id < cursor DESC`, as the protocol pages. */
function pageClause(page: Page, column: string): { where: string; order: string } {
  const ascending = page.direction === "ascending";
  const from = page.cursor === 0n ? "" : ` AND ${column} ${ascending ? ">" : "<"} @cursor`;
  const until = page.until === undefined ? "" : ` AND ${column} ${ascending ? "<=" : ">="} @until`;
  return { where: from + until, order: `ORDER BY ${column} ${ascending ? "ASC" : "DESC"} LIMIT @limit` };
}

const pageParams = (page: Page) => ({ cursor: page.cursor, limit: page.limit, until: page.until ?? null });

// SQLite answers length() of a BLOB column from the record's header,
// without reading the BLOB's pages.
const sizeOf = (row: Row): RecordSize => ({ id: row["id"] as bigint, bytes: Number(row["bytes"]) });

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly writes: WriteQueue;
  private readonly nowNs: () => bigint;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.nowNs = options.nowNs ?? wallClockNs;
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    this.db.defaultSafeIntegers(true);
    migrate(this.db, this.nowNs);
    this.writes = new WriteQueue(this.db);
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Prepared once per SQL text: preparing is a large part of a small query. */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private all(sql: string, params: Row = {}): Row[] {
    return this.statement(sql).all(params) as Row[];
  }

  private get(sql: string, params: Row = {}): Row | undefined {
    return this.statement(sql).get(params) as Row | undefined;
  }

  /** `bytes`: about what it stores (write-queue.ts holds large writes back). */
  private write<T>(run: () => T, bytes = 0): Promise<T> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return this.writes.enqueue(run, bytes);
  }

  /**
   * The created_ns of a new record on a topic: the clock, or one nanosecond
   * past the topic's newest record if the clock is not past it (many records
   * in one millisecond, a clock set back). Clients list a group by this
   * timestamp (the official one by nothing else), so it must be unique and
   * increasing per topic for every member to list the same order. The newest
   * record is the persisted high-water mark, so a restart keeps it; it runs
   * inside the write transaction, which SQLite's single writer serialises.
   */
  private nextTopicNs(newestOfTopic: string, topic: Uint8Array): bigint {
    const now = this.nowNs();
    const row = this.statement(newestOfTopic).get(Buffer.from(topic)) as Row | undefined;
    if (row === undefined) return now;
    const last = big(row.created_ns);
    return now > last ? now : last + 1n;
  }

  appendGroupMessages(messages: readonly NewGroupMessage[]): Promise<GroupMessageRecord[]> {
    return this.write(() => {
      const insert = this.statement(
        `INSERT INTO group_messages (created_ns, group_id, data, sender_hmac, should_push, is_commit, content_hash)
         VALUES (@createdNs, @groupId, @data, @senderHmac, @shouldPush, @isCommit, @hash)
         ON CONFLICT (content_hash) DO NOTHING`,
      );
      return messages.map((message) => {
        const hash = contentHash(message.groupId, message.data);
        insert.run({
          createdNs: this.nextTopicNs(
            "SELECT created_ns FROM group_messages WHERE group_id = ? ORDER BY id DESC LIMIT 1",
            message.groupId,
          ),
          groupId: Buffer.from(message.groupId),
          data: Buffer.from(message.data),
          senderHmac: Buffer.from(message.senderHmac),
          shouldPush: message.shouldPush ? 1 : 0,
          isCommit: message.isCommit ? 1 : 0,
          hash,
        });
        return groupMessageFrom(this.get("SELECT * FROM group_messages WHERE content_hash = @hash", { hash }) ?? {});
      });
    }, sum(messages.map((m) => m.data.length + m.senderHmac.length)));
  }

  queryGroupMessages(groupId: Uint8Array, page: Page): Promise<GroupMessageRecord[]> {
    const { where, order } = pageClause(page, "id");
    const rows = this.all(`SELECT * FROM group_messages WHERE group_id = @groupId${where} ${order}`, {
      groupId: Buffer.from(groupId),
      ...pageParams(page),
    });
    return Promise.resolve(rows.map(groupMessageFrom));
  }

  groupMessageSizes(groupId: Uint8Array, page: Page): Promise<RecordSize[]> {
    const { where, order } = pageClause(page, "id");
    const rows = this.all(
      `SELECT id, length(data) + length(sender_hmac) AS bytes FROM group_messages WHERE group_id = @groupId${where} ${order}`,
      { groupId: Buffer.from(groupId), ...pageParams(page) },
    );
    return Promise.resolve(rows.map(sizeOf));
  }

  newestGroupMessages(groupIds: readonly Uint8Array[]): Promise<(GroupMessageRecord | undefined)[]> {
    const statement = this.statement(
      "SELECT * FROM group_messages WHERE group_id = ? ORDER BY id DESC LIMIT 1",
    );
    return Promise.resolve(
      groupIds.map((groupId) => {
        const row = statement.get(Buffer.from(groupId)) as Row | undefined;
        return row === undefined ? undefined : groupMessageFrom(row);
      }),
    );
  }

  appendWelcomes(welcomes: readonly NewWelcome[]): Promise<WelcomeRecord[]> {
    return this.write(() => {
      const insert = this.statement(
        `INSERT INTO welcomes (created_ns, kind, installation_key, data, hpke_public_key, wrapper_algorithm, welcome_metadata, content_hash)
         VALUES (@createdNs, @kind, @installationKey, @data, @hpkePublicKey, @wrapperAlgorithm, @welcomeMetadata, @hash)
         ON CONFLICT (content_hash) DO NOTHING`,
      );
      return welcomes.map((welcome) => {
        const hash = contentHash(welcome.installationKey, welcome.data);
        insert.run({
          createdNs: this.nextTopicNs(
            "SELECT created_ns FROM welcomes WHERE installation_key = ? ORDER BY id DESC LIMIT 1",
            welcome.installationKey,
          ),
          kind: welcome.kind,
          installationKey: Buffer.from(welcome.installationKey),
          data: Buffer.from(welcome.data),
          hpkePublicKey: Buffer.from(welcome.hpkePublicKey),
          wrapperAlgorithm: welcome.wrapperAlgorithm,
          welcomeMetadata: Buffer.from(welcome.welcomeMetadata),
          hash,
        });
        return welcomeFrom(this.get("SELECT * FROM welcomes WHERE content_hash = @hash", { hash }) ?? {});
      });
    }, sum(welcomes.map((w) => w.data.length + w.hpkePublicKey.length + w.welcomeMetadata.length)));
  }

  queryWelcomes(installationKey: Uint8Array, page: Page): Promise<WelcomeRecord[]> {
    const { where, order } = pageClause(page, "id");
    const rows = this.all(`SELECT * FROM welcomes WHERE installation_key = @key${where} ${order}`, {
      key: Buffer.from(installationKey),
      ...pageParams(page),
    });
    return Promise.resolve(rows.map(welcomeFrom));
  }

  welcomeSizes(installationKey: Uint8Array, page: Page): Promise<RecordSize[]> {
    const { where, order } = pageClause(page, "id");
    const rows = this.all(
      `SELECT id, length(data) + length(hpke_public_key) + length(welcome_metadata) AS bytes FROM welcomes WHERE installation_key = @key${where} ${order}`,
      { key: Buffer.from(installationKey), ...pageParams(page) },
    );
    return Promise.resolve(rows.map(sizeOf));
  }

  putKeyPackage(installationKey: Uint8Array, keyPackage: Uint8Array, notBefore: bigint): Promise<boolean> {
    return this.write(() => {
      const now = this.nowNs();
      const info = this.statement(
        `INSERT INTO key_packages (installation_key, key_package, created_ns, updated_ns, not_before)
           VALUES (@key, @keyPackage, @now, @now, @notBefore)
           ON CONFLICT (installation_key) DO UPDATE
             SET key_package = excluded.key_package, updated_ns = excluded.updated_ns, not_before = excluded.not_before
             WHERE excluded.not_before >= key_packages.not_before`,
      ).run({ key: Buffer.from(installationKey), keyPackage: Buffer.from(keyPackage), now, notBefore });
      return info.changes > 0;
    }, keyPackage.length);
  }

  fetchKeyPackages(installationKeys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const statement = this.statement("SELECT key_package FROM key_packages WHERE installation_key = ?");
    return Promise.resolve(
      installationKeys.map((key) => {
        const row = statement.get(Buffer.from(key)) as Row | undefined;
        return row === undefined ? undefined : bytes(row.key_package);
      }),
    );
  }

  appendIdentityUpdate(update: NewIdentityUpdate): Promise<AppendIdentityResult> {
    return this.write((): AppendIdentityResult => {
      const log = this.get(
        "SELECT COUNT(*) AS count, COALESCE(MAX(sequence_id), 0) AS last FROM identity_updates WHERE inbox_id = @inboxId",
        { inboxId: update.inboxId },
      );
      if (big(log?.last) !== update.expectedLastSequenceId) return { status: "conflict" };
      if (big(log?.count) >= BigInt(update.maxUpdates)) return { status: "full" };
      const serverTimestampNs = this.nowNs();
      const inserted = this
        .statement(
          `INSERT INTO identity_updates (inbox_id, server_timestamp_ns, update_bytes)
           VALUES (@inboxId, @serverTimestampNs, @update) RETURNING sequence_id`,
        )
        .get({ inboxId: update.inboxId, serverTimestampNs, update: Buffer.from(update.update) }) as Row;
      const sequenceId = big(inserted.sequence_id);
      const associate = this.statement(
        "INSERT INTO address_log (address, inbox_id, association_sequence_id) VALUES (?, ?, ?)",
      );
      for (const address of update.addressesAdded) associate.run(address, update.inboxId, sequenceId);
      const revoke = this.statement(
        `UPDATE address_log SET revocation_sequence_id = @sequenceId
         WHERE rowid = (SELECT rowid FROM address_log WHERE address = @address AND inbox_id = @inboxId
                        ORDER BY association_sequence_id DESC LIMIT 1)`,
      );
      for (const address of update.addressesRemoved) {
        revoke.run({ sequenceId, address, inboxId: update.inboxId });
      }
      return {
        status: "appended",
        record: { sequenceId, inboxId: update.inboxId, serverTimestampNs, update: update.update },
      };
    }, update.update.length);
  }

  identityUpdates(inboxId: string, after: bigint): Promise<IdentityUpdateRecord[]> {
    const rows = this.all(
      "SELECT * FROM identity_updates WHERE inbox_id = @inboxId AND sequence_id > @after ORDER BY sequence_id",
      { inboxId, after },
    );
    return Promise.resolve(rows.map(identityUpdateFrom));
  }

  inboxIdsOf(addresses: readonly string[]): Promise<(string | undefined)[]> {
    const statement = this.statement(
      `SELECT inbox_id FROM address_log WHERE address = ? AND revocation_sequence_id IS NULL
       ORDER BY association_sequence_id DESC LIMIT 1`,
    );
    return Promise.resolve(
      addresses.map((address) => (statement.get(address) as Row | undefined)?.inbox_id as string | undefined),
    );
  }

  appendCommitLog(entries: readonly NewCommitLogEntry[]): Promise<CommitLogRecord[]> {
    return this.write(() => {
      const insert = this.statement(
        `INSERT INTO commit_log (created_ns, group_id, entry, signature)
         VALUES (@createdNs, @groupId, @entry, @signature) RETURNING *`,
      );
      const createdNs = this.nowNs();
      return entries.map((entry) =>
        commitLogFrom(
          insert.get({
            createdNs,
            groupId: Buffer.from(entry.groupId),
            entry: Buffer.from(entry.entry),
            signature: Buffer.from(entry.signature),
          }) as Row,
        ),
      );
    }, sum(entries.map((e) => e.entry.length + e.signature.length)));
  }

  deleteExpired(cutoff: ExpiryCutoff, limit: number): Promise<ExpiredCounts> {
    return this.write(() => {
      const expire = (table: string, beforeNs: bigint | undefined): number => {
        if (beforeNs === undefined) return 0;
        // The rowids first, by the time index, so that one call deletes a bounded number.
        const info = this.statement(
          `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE created_ns < @beforeNs ORDER BY created_ns LIMIT @limit)`,
        ).run({ beforeNs, limit });
        return info.changes;
      };
      return {
        groupMessages: expire("group_messages", cutoff.groupMessagesBeforeNs),
        commitLog: expire("commit_log", cutoff.groupMessagesBeforeNs),
        welcomes: expire("welcomes", cutoff.welcomesBeforeNs),
      };
    });
  }

  queryCommitLog(groupId: Uint8Array, page: Page): Promise<CommitLogRecord[]> {
    const { where, order } = pageClause(page, "id");
    const rows = this.all(`SELECT * FROM commit_log WHERE group_id = @groupId${where} ${order}`, {
      groupId: Buffer.from(groupId),
      ...pageParams(page),
    });
    return Promise.resolve(rows.map(commitLogFrom));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.writes.flush(true);
    this.db.close();
    return Promise.resolve();
  }
}
