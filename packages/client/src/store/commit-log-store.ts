// Fork detection's records (tables of migrations/commit-log-tables.ts):
// `commit_log_local`, the epoch authenticator of every epoch we held, keyed
// by epoch, with the node's cursor of the commit that made it (0 for the
// epoch we created or joined by welcome); `commit_log_remote`, the node's
// commit log entries that passed every check (commit-log-entry.ts);
// `commit_log_groups`, per group what we published and read, and the fork
// once one is seen (it stays: a fork does not heal by itself).
import type Database from "better-sqlite3-multiple-ciphers";
import { blob, bytesOf } from "./sql-values.js";

export interface LocalEpoch {
  readonly epoch: bigint;
  /** The node's cursor of the commit that made this epoch; 0 when we created or joined it. */
  readonly commitSequenceId: bigint;
  readonly lastEpochAuthenticator: Uint8Array;
  readonly epochAuthenticator: Uint8Array;
}

export interface RemoteEntry {
  readonly commitSequenceId: bigint;
  readonly epoch: bigint;
  readonly epochAuthenticator: Uint8Array;
  /** COMMIT_RESULT_APPLIED; otherwise the epoch is the one the commit failed on. */
  readonly applied: boolean;
}

export interface CommitLogGroup {
  /** The highest commit sequence id we published. */
  readonly publishedThrough: bigint;
  /** The node's id of the last log entry read. */
  readonly readCursor: bigint;
  readonly forkedEpoch: bigint | undefined;
  readonly forkDetails: string;
}

export interface EpochMismatch {
  readonly epoch: bigint;
  readonly localSequenceId: bigint;
  readonly remoteSequenceId: bigint;
}

interface LocalRow {
  applied_epoch_number: bigint;
  commit_sequence_id: bigint;
  last_epoch_authenticator: Buffer;
  applied_epoch_authenticator: Buffer;
}

interface RemoteRow {
  commit_sequence_id: bigint;
  applied_epoch_number: bigint;
  applied_epoch_authenticator: Buffer;
  applied: bigint;
}

const localEpoch = (r: LocalRow): LocalEpoch => ({
  epoch: r.applied_epoch_number,
  commitSequenceId: r.commit_sequence_id,
  lastEpochAuthenticator: bytesOf(r.last_epoch_authenticator),
  epochAuthenticator: bytesOf(r.applied_epoch_authenticator),
});

const remoteEntry = (r: RemoteRow): RemoteEntry => ({
  commitSequenceId: r.commit_sequence_id,
  epoch: r.applied_epoch_number,
  epochAuthenticator: bytesOf(r.applied_epoch_authenticator),
  applied: r.applied !== 0n,
});

export class CommitLogStore {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Prepared once per SQL text. */
  #prepare<P extends unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement as unknown as Database.Statement<P, R>;
  }

  /** Records an epoch we hold; the first record of an epoch stays. */
  recordLocal(groupId: Uint8Array, e: LocalEpoch): void {
    this.#prepare(
      `INSERT OR IGNORE INTO commit_log_local
       (group_id, applied_epoch_number, commit_sequence_id, last_epoch_authenticator, applied_epoch_authenticator)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(blob(groupId), e.epoch, e.commitSequenceId, blob(e.lastEpochAuthenticator), blob(e.epochAuthenticator));
  }

  /** Our epochs made by a commit the node holds after `after`, by the node's order. */
  localAfter(groupId: Uint8Array, after: bigint): LocalEpoch[] {
    return this.#prepare<[Buffer, bigint], LocalRow>(
      "SELECT * FROM commit_log_local WHERE group_id = ? AND commit_sequence_id > ? ORDER BY commit_sequence_id",
    )
      .all(blob(groupId), after)
      .map(localEpoch);
  }

  local(groupId: Uint8Array): LocalEpoch[] {
    return this.#prepare<[Buffer], LocalRow>("SELECT * FROM commit_log_local WHERE group_id = ? ORDER BY applied_epoch_number")
      .all(blob(groupId))
      .map(localEpoch);
  }

  remote(groupId: Uint8Array): RemoteEntry[] {
    return this.#prepare<[Buffer], RemoteRow>("SELECT * FROM commit_log_remote WHERE group_id = ? ORDER BY commit_sequence_id")
      .all(blob(groupId))
      .map(remoteEntry);
  }

  /** The accepted entry with the highest commit sequence id, and the newest applied one. */
  latestRemote(groupId: Uint8Array): { latest: RemoteEntry | undefined; latestApplied: RemoteEntry | undefined } {
    const one = (where: string) =>
      this.#prepare<[Buffer], RemoteRow>(`SELECT * FROM commit_log_remote WHERE group_id = ?${where} ORDER BY commit_sequence_id DESC LIMIT 1`)
        .get(blob(groupId));
    const latest = one("");
    const latestApplied = one(" AND applied = 1");
    return {
      latest: latest === undefined ? undefined : remoteEntry(latest),
      latestApplied: latestApplied === undefined ? undefined : remoteEntry(latestApplied),
    };
  }

  insertRemote(groupId: Uint8Array, e: RemoteEntry): void {
    this.#prepare(
      `INSERT OR IGNORE INTO commit_log_remote
       (group_id, commit_sequence_id, applied_epoch_number, applied_epoch_authenticator, applied) VALUES (?, ?, ?, ?, ?)`,
    ).run(blob(groupId), e.commitSequenceId, e.epoch, blob(e.epochAuthenticator), e.applied ? 1 : 0);
  }

  /**
   * The first epoch the node's log and our record disagree on: an applied
   * entry for an epoch we held, or for the commit that made one of ours,
   * with another epoch authenticator.
   */
  firstMismatch(groupId: Uint8Array): EpochMismatch | undefined {
    const row = this.#prepare<[Buffer, Buffer], { epoch: bigint; local_seq: bigint; remote_seq: bigint }>(
        // Two joins, each on an index (by epoch, by commit), rather than one
        // join on an OR that would compare every pair.
        `SELECT * FROM (
           SELECT l.applied_epoch_number AS epoch, l.commit_sequence_id AS local_seq, r.commit_sequence_id AS remote_seq
           FROM commit_log_local l JOIN commit_log_remote r
             ON r.group_id = l.group_id AND r.applied_epoch_number = l.applied_epoch_number
           WHERE l.group_id = ? AND r.applied = 1 AND r.applied_epoch_authenticator != l.applied_epoch_authenticator
           UNION ALL
           SELECT l.applied_epoch_number, l.commit_sequence_id, r.commit_sequence_id
           FROM commit_log_local l JOIN commit_log_remote r
             ON r.group_id = l.group_id AND r.commit_sequence_id = l.commit_sequence_id
           WHERE l.group_id = ? AND l.commit_sequence_id != 0 AND r.applied = 1
             AND r.applied_epoch_authenticator != l.applied_epoch_authenticator
         ) ORDER BY epoch LIMIT 1`,
      )
      .get(blob(groupId), blob(groupId));
    return row === undefined ? undefined : { epoch: row.epoch, localSequenceId: row.local_seq, remoteSequenceId: row.remote_seq };
  }

  group(groupId: Uint8Array): CommitLogGroup {
    const row = this.#prepare<[Buffer], { published_through: bigint; read_cursor: bigint; forked_epoch: bigint | null; fork_details: string | null }>(
        "SELECT * FROM commit_log_groups WHERE group_id = ?",
      )
      .get(blob(groupId));
    return {
      publishedThrough: row?.published_through ?? 0n,
      readCursor: row?.read_cursor ?? 0n,
      forkedEpoch: row?.forked_epoch ?? undefined,
      forkDetails: row?.fork_details ?? "",
    };
  }

  #ensure(groupId: Uint8Array): void {
    this.#prepare("INSERT OR IGNORE INTO commit_log_groups (group_id) VALUES (?)").run(blob(groupId));
  }

  setPublishedThrough(groupId: Uint8Array, sequenceId: bigint): void {
    this.#ensure(groupId);
    this.#prepare("UPDATE commit_log_groups SET published_through = ? WHERE group_id = ?").run(sequenceId, blob(groupId));
  }

  setReadCursor(groupId: Uint8Array, cursor: bigint): void {
    this.#ensure(groupId);
    this.#prepare("UPDATE commit_log_groups SET read_cursor = ? WHERE group_id = ?").run(cursor, blob(groupId));
  }

  /** Marks the group forked; the first fork seen is the one kept. */
  markForked(groupId: Uint8Array, epoch: bigint, details: string): void {
    this.#ensure(groupId);
    this.#prepare("UPDATE commit_log_groups SET forked_epoch = ?, fork_details = ? WHERE group_id = ? AND forked_epoch IS NULL")
      .run(epoch, details, blob(groupId));
  }
}
