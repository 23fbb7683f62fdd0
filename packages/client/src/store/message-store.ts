// The decoded messages of every conversation (table `messages`): what we
// received, what we sent (cursor 0 until it comes back from the node and
// takes the node's time and cursor), and the group updates built from
// commits and welcomes. A message id is stored once.
import type Database from "better-sqlite3-multiple-ciphers";
import { blob, bytesOf } from "./sql-values.js";

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

export interface MessageQuery {
  readonly limit?: number;
  readonly descending?: boolean;
  readonly sentAfterNs?: bigint;
  readonly sentBeforeNs?: bigint;
  readonly contentType?: string;
  readonly excludeContentType?: string;
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

function messageRow(r: RawMessage): StoredMessage {
  return {
    id: r.id,
    groupId: bytesOf(r.group_id),
    senderInboxId: r.sender_inbox_id,
    sentAtNs: r.sent_at_ns,
    contentType: r.content_type,
    encodedContent: bytesOf(r.encoded_content),
    cursor: r.cursor,
  };
}

const COLUMNS = "id, group_id, sender_inbox_id, sent_at_ns, content_type, encoded_content, cursor";

export class MessageStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[string, Buffer, string, bigint, string, Buffer, bigint]>;
  readonly #get: Database.Statement<[string], RawMessage>;
  readonly #markPublished: Database.Statement<[bigint, bigint, string]>;
  /** The list query by number of groups and direction: its text depends on both. */
  readonly #queries = new Map<string, Database.Statement<unknown[], RawMessage>>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(`INSERT OR IGNORE INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE id = ?`);
    this.#markPublished = db.prepare("UPDATE messages SET sent_at_ns = ?, cursor = ? WHERE id = ?");
  }

  /** Inserts once: the same message id stored twice keeps the first. */
  insert(m: StoredMessage): void {
    this.#insert.run(m.id, blob(m.groupId), m.senderInboxId, m.sentAtNs, m.contentType, blob(m.encodedContent), m.cursor);
  }

  get(id: string): StoredMessage | undefined {
    const row = this.#get.get(id);
    return row === undefined ? undefined : messageRow(row);
  }

  /** Our message came back from the node: it takes the node's time and cursor, as the receivers see it. */
  markPublished(id: string, sentAtNs: bigint, cursor: bigint): void {
    this.#markPublished.run(sentAtNs, cursor, id);
  }

  /**
   * @param groupId one group, or several (a DM and its duplicates, read as one).
   * @param q.contentType only this type; `q.excludeContentType` all but this one.
   */
  list(groupId: Uint8Array | readonly Uint8Array[], q: MessageQuery = {}): StoredMessage[] {
    const ids = (groupId instanceof Uint8Array ? [groupId] : groupId).map(blob);
    return this.#query(ids.length, q.descending === true)
      .all(
        ...ids,
        q.sentAfterNs ?? -1n,
        q.sentBeforeNs ?? 2n ** 62n,
        q.contentType ?? null,
        q.contentType ?? null,
        q.excludeContentType ?? null,
        q.excludeContentType ?? null,
        BigInt(q.limit ?? -1),
      )
      .map(messageRow);
  }

  // Ties on the node's time (a node that stamps in coarse units) go by the
  // node's cursor, which every member sees alike, and not by the order this
  // installation happened to store them in; what has no cursor yet (ours,
  // unpublished) comes after what has one.
  #query(groups: number, descending: boolean): Database.Statement<unknown[], RawMessage> {
    const key = `${groups}:${descending}`;
    let statement = this.#queries.get(key);
    if (statement === undefined) {
      const order = descending ? "DESC" : "ASC";
      statement = this.#db.prepare<unknown[], RawMessage>(
        `SELECT ${COLUMNS} FROM messages WHERE group_id IN (${Array.from({ length: groups }, () => "?").join(", ")})
         AND sent_at_ns > ? AND sent_at_ns < ?
         AND (? IS NULL OR content_type = ?) AND (? IS NULL OR content_type != ?)
         ORDER BY sent_at_ns ${order}, cursor = 0 ${order}, cursor ${order}, rowid ${order} LIMIT ?`,
      );
      this.#queries.set(key, statement);
    }
    return statement;
  }
}
