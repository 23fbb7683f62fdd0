// How often each input was retried for a failure of the node's
// (incoming/incoming-failure.ts retryOrGiveUp), per group message (scope:
// the group id) or welcome (scope: empty), by the node's cursor of it. A
// row is dropped once the cursor has passed its input.
import type Database from "better-sqlite3-multiple-ciphers";
import type { Arrival, InputAttempts } from "../incoming/incoming-failure.js";
import { blob } from "./sql-values.js";

export class InputAttemptsStore {
  readonly #get: Database.Statement<[string, Buffer, bigint], { attempts: bigint; last_ns: bigint }>;
  readonly #set: Database.Statement<[string, Buffer, bigint, bigint, bigint]>;
  readonly #clear: Database.Statement<[string, Buffer, bigint]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare("SELECT attempts, last_ns FROM input_attempts WHERE kind = ? AND scope = ? AND cursor = ?");
    this.#set = db.prepare("INSERT OR REPLACE INTO input_attempts (kind, scope, cursor, attempts, last_ns) VALUES (?, ?, ?, ?, ?)");
    this.#clear = db.prepare("DELETE FROM input_attempts WHERE kind = ? AND scope = ? AND cursor <= ?");
  }

  attempts(kind: Arrival, scope: Uint8Array, cursor: bigint): InputAttempts | undefined {
    const row = this.#get.get(kind, blob(scope), cursor);
    return row === undefined ? undefined : { count: Number(row.attempts), lastNs: row.last_ns };
  }

  setAttempts(kind: Arrival, scope: Uint8Array, cursor: bigint, attempts: InputAttempts): void {
    this.#set.run(kind, blob(scope), cursor, BigInt(attempts.count), attempts.lastNs);
  }

  /** Drops the rows of inputs at or before `cursor`: processed or refused. */
  clearThrough(kind: Arrival, scope: Uint8Array, cursor: bigint): void {
    this.#clear.run(kind, blob(scope), cursor);
  }
}
