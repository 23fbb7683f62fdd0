// Each group we are in (table `groups`): its MLS state (the @parley/mls
// state codec, which carries its own version byte) and the cursor of the
// last envelope processed, always written together so that a restart
// resumes from a cursor that matches its state (section 3.9). The
// `group_id` column here and in every other table holds the group's local
// key (conversations/local-key.ts): the MLS group id for the first group
// held under it, a suffixed key for a later one.
import type Database from "better-sqlite3-multiple-ciphers";
import { blob, bytesOf } from "./sql-values.js";

export interface GroupRow {
  readonly groupId: Uint8Array;
  readonly state: Uint8Array;
  readonly cursor: bigint;
  readonly createdNs: bigint;
  readonly addedByInboxId: string;
}

interface RawGroup {
  group_id: Buffer;
  state: Buffer;
  cursor: bigint;
  created_ns: bigint;
  added_by_inbox_id: string;
}

function groupRow(r: RawGroup): GroupRow {
  return { groupId: bytesOf(r.group_id), state: bytesOf(r.state), cursor: r.cursor, createdNs: r.created_ns, addedByInboxId: r.added_by_inbox_id };
}

const COLUMNS = "group_id, state, cursor, created_ns, added_by_inbox_id";

export class GroupStore {
  readonly #get: Database.Statement<[Buffer], RawGroup>;
  readonly #all: Database.Statement<[], RawGroup>;
  readonly #byPrefix: Database.Statement<[Buffer, number, number, Buffer], RawGroup>;
  readonly #insert: Database.Statement<[Buffer, Buffer, bigint, bigint, string]>;
  readonly #update: Database.Statement<[Buffer, bigint, Buffer]>;
  readonly #setCursor: Database.Statement<[bigint, Buffer]>;
  readonly #rejoin: Database.Statement<[Buffer, bigint, string, Buffer]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM groups WHERE group_id = ?`);
    this.#all = db.prepare(`SELECT ${COLUMNS} FROM groups ORDER BY created_ns`);
    this.#byPrefix = db.prepare(
      `SELECT ${COLUMNS} FROM groups WHERE group_id = ? OR (length(group_id) = ? AND substr(group_id, 1, ?) = ?) ORDER BY created_ns`,
    );
    this.#insert = db.prepare(`INSERT INTO groups (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`);
    this.#update = db.prepare("UPDATE groups SET state = ?, cursor = ? WHERE group_id = ?");
    this.#setCursor = db.prepare("UPDATE groups SET cursor = ? WHERE group_id = ?");
    this.#rejoin = db.prepare("UPDATE groups SET state = ?, cursor = ?, added_by_inbox_id = ? WHERE group_id = ?");
  }

  get(groupId: Uint8Array): GroupRow | undefined {
    const row = this.#get.get(blob(groupId));
    return row === undefined ? undefined : groupRow(row);
  }

  /** Oldest first. */
  all(): GroupRow[] {
    return this.#all.all().map(groupRow);
  }

  /** The group keyed `prefix`, and those keyed `prefix` followed by `suffixLength` bytes; oldest first. */
  byKeyPrefix(prefix: Uint8Array, suffixLength: number): GroupRow[] {
    const p = blob(prefix);
    return this.#byPrefix.all(p, prefix.length + suffixLength, prefix.length, p).map(groupRow);
  }

  insert(row: GroupRow): void {
    this.#insert.run(blob(row.groupId), blob(row.state), row.cursor, row.createdNs, row.addedByInboxId);
  }

  /** State and cursor together: they must never disagree. */
  update(groupId: Uint8Array, state: Uint8Array, cursor: bigint): void {
    this.#update.run(blob(state), cursor, blob(groupId));
  }

  /** Moves the group's cursor past an envelope that left its state as it was. */
  setCursor(groupId: Uint8Array, cursor: bigint): void {
    this.#setCursor.run(cursor, blob(groupId));
  }

  /** A removed group joined again: state, cursor and adder together. */
  rejoin(groupId: Uint8Array, state: Uint8Array, cursor: bigint, addedByInboxId: string): void {
    this.#rejoin.run(blob(state), cursor, addedByInboxId, blob(groupId));
  }
}
