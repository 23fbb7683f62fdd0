// What the client keeps about each group besides its state, one small table
// each: when a commit of ours was last merged (`group_key_updates`: the key
// rotation of section 3.8 is due 30 days later), when the membership check
// last ran (`group_installation_checks`, section 3.4), and the protocol
// version a paused group waits for (`group_pauses`, section 3.5 rule 7).
import type Database from "better-sqlite3-multiple-ciphers";
import { blob } from "./sql-values.js";

export class GroupUpkeepStore {
  readonly #lastOwnCommit: Database.Statement<[Buffer], { committed_ns: bigint }>;
  readonly #setLastOwnCommit: Database.Statement<[Buffer, bigint]>;
  readonly #checked: Database.Statement<[Buffer], { checked_ns: bigint }>;
  readonly #setChecked: Database.Statement<[Buffer, bigint]>;
  readonly #paused: Database.Statement<[Buffer], { version: string }>;
  readonly #pause: Database.Statement<[Buffer, string]>;
  readonly #unpause: Database.Statement<[Buffer]>;

  constructor(db: Database.Database) {
    this.#lastOwnCommit = db.prepare("SELECT committed_ns FROM group_key_updates WHERE group_id = ?");
    this.#setLastOwnCommit = db.prepare("INSERT OR REPLACE INTO group_key_updates (group_id, committed_ns) VALUES (?, ?)");
    this.#checked = db.prepare("SELECT checked_ns FROM group_installation_checks WHERE group_id = ?");
    this.#setChecked = db.prepare("INSERT OR REPLACE INTO group_installation_checks (group_id, checked_ns) VALUES (?, ?)");
    this.#paused = db.prepare("SELECT version FROM group_pauses WHERE group_id = ?");
    this.#pause = db.prepare("INSERT OR REPLACE INTO group_pauses (group_id, version) VALUES (?, ?)");
    this.#unpause = db.prepare("DELETE FROM group_pauses WHERE group_id = ?");
  }

  /** When our last commit in the group (each one carries a path) was merged; undefined if never. */
  lastOwnCommitNs(groupId: Uint8Array): bigint | undefined {
    return this.#lastOwnCommit.get(blob(groupId))?.committed_ns;
  }

  setLastOwnCommitNs(groupId: Uint8Array, ns: bigint): void {
    this.#setLastOwnCommit.run(blob(groupId), ns);
  }

  /** When the periodic membership check last ran for the group; undefined if never. */
  installationsCheckedNs(groupId: Uint8Array): bigint | undefined {
    return this.#checked.get(blob(groupId))?.checked_ns;
  }

  setInstallationsCheckedNs(groupId: Uint8Array, ns: bigint): void {
    this.#setChecked.run(blob(groupId), ns);
  }

  /** The protocol version the group waits for (a commit raised it above ours); undefined when not paused. */
  pausedForVersion(groupId: Uint8Array): string | undefined {
    return this.#paused.get(blob(groupId))?.version;
  }

  setPausedForVersion(groupId: Uint8Array, version: string | undefined): void {
    if (version === undefined) this.#unpause.run(blob(groupId));
    else this.#pause.run(blob(groupId), version);
  }
}
