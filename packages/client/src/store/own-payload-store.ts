// The hashes of what we published (table `own_payloads`): our own
// envelopes come back from the node and cannot be decrypted by us (their
// ratchet secrets are spent), so they are recognised here and skipped.
import type Database from "better-sqlite3-multiple-ciphers";
import { blob } from "./sql-values.js";

export class OwnPayloadStore {
  readonly #add: Database.Statement<[Buffer, Buffer]>;
  readonly #has: Database.Statement<[Buffer]>;

  constructor(db: Database.Database) {
    this.#add = db.prepare("INSERT OR IGNORE INTO own_payloads (hash, group_id) VALUES (?, ?)");
    this.#has = db.prepare("SELECT 1 FROM own_payloads WHERE hash = ?");
  }

  add(hash: Uint8Array, groupId: Uint8Array): void {
    this.#add.run(blob(hash), blob(groupId));
  }

  has(hash: Uint8Array): boolean {
    return this.#has.get(blob(hash)) !== undefined;
  }
}
