// The local store of one installation (../shared/spec/xmtp-client.md
// section 6): one SQLite file through better-sqlite3-multiple-ciphers,
// owner-only, encrypted when given a key, versioned by migrations
// (store-file.ts, store-cipher.ts, migrations/). Each kind of record has its
// module: the installation, our key packages, groups (state and cursor),
// per-group upkeep (key rotation, membership check, pauses), messages, the
// hashes of our own payloads, intents, the identity logs we verified, and
// the attempts at inputs that failed with a failure of the node's.
// LocalStore is the one door the rest of the client uses; writes that must
// agree go through `transaction`.
import type Database from "better-sqlite3-multiple-ciphers";
import type { Arrival, AttemptLedger } from "../incoming/incoming-failure.js";
import { ClientError } from "../client-error.js";
import { CommitLogStore } from "./commit-log-store.js";
import { GroupStore, type GroupRow } from "./group-store.js";
import { GroupUpkeepStore } from "./group-upkeep-store.js";
import { IdentityLogStore } from "./identity-log-store.js";
import { InstallationStore, type InstallationRow } from "./installation-store.js";
import { InputAttemptsStore } from "./input-attempts-store.js";
import { IntentStore, type IntentRow, type IntentState, type NewIntent } from "./intent-store.js";
import { KeyPackageStore } from "./key-package-store.js";
import { MessageStore, type MessageQuery, type StoredMessage } from "./message-store.js";
import { OwnPayloadStore } from "./own-payload-store.js";
import type { NativeSqlite } from "./native-sqlite.js";
import { openStoreFile } from "./store-file.js";

export type { GroupRow, InstallationRow, IntentRow, IntentState, MessageQuery, StoredMessage };

export class LocalStore {
  readonly #db: Database.Database;
  readonly #installation: InstallationStore;
  readonly #keyPackages: KeyPackageStore;
  readonly #groups: GroupStore;
  readonly #upkeep: GroupUpkeepStore;
  readonly #messages: MessageStore;
  readonly #ownPayloads: OwnPayloadStore;
  readonly #intents: IntentStore;
  readonly #attempts: InputAttemptsStore;
  /** Fork detection's records (commit-log-store.ts); writes that must agree with others go through `transaction`. */
  readonly commitLog: CommitLogStore;
  /** The identity logs we verified (identity-log-store.ts), read and extended by identity/inbox-history.ts. */
  readonly identityLog: IdentityLogStore;

  /**
   * Opens (creating it owner-only if need be) and migrates the database.
   *
   * @param path a file, or ":memory:".
   * @param key `dbEncryptionKey` (store-cipher.ts): the file is encrypted with it.
   * @param native where the SQLite addon comes from (native-sqlite.ts; tests only).
   * @throws ClientError `client.usage` for a key of another shape;
   *   `client.no_native_sqlite` when SQLite's native addon does not load
   *   (no file made); `client.store_wrong_key`, `client.store_encrypted`,
   *   `client.store_not_encrypted`, `client.store_no_cipher` when the key
   *   and the file do not fit; `client.store_too_new` for a database a
   *   newer client wrote; `client.bad_store` for one that cannot be
   *   opened, is not a client store, or holds rows a migration cannot read.
   */
  constructor(path: string, key?: Uint8Array | string, native?: NativeSqlite) {
    let db: Database.Database | undefined;
    try {
      db = openStoreFile(path, key, native);
      this.#installation = new InstallationStore(db);
      this.#keyPackages = new KeyPackageStore(db);
      this.#groups = new GroupStore(db);
      this.#upkeep = new GroupUpkeepStore(db);
      this.#messages = new MessageStore(db);
      this.#ownPayloads = new OwnPayloadStore(db);
      this.#intents = new IntentStore(db);
      this.#attempts = new InputAttemptsStore(db);
      this.commitLog = new CommitLogStore(db);
      this.identityLog = new IdentityLogStore(db);
      this.#db = db;
    } catch (error) {
      db?.close();
      if (error instanceof ClientError) throw error;
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

  // The installation (installation-store.ts).

  installation(): InstallationRow | undefined {
    return this.#installation.get();
  }

  saveInstallation(row: Omit<InstallationRow, "welcomeCursor">): void {
    this.#installation.save(row);
  }

  setWelcomeCursor(cursor: bigint): void {
    this.#installation.setWelcomeCursor(cursor);
  }

  // Key packages (key-package-store.ts).

  saveKeyPackage(initKey: Uint8Array, keyPackage: Uint8Array, privateKeyPackage: Uint8Array, createdNs: bigint): void {
    this.#keyPackages.save(initKey, keyPackage, privateKeyPackage, createdNs);
  }

  keyPackage(initKey: Uint8Array): { keyPackage: Uint8Array; privateKeyPackage: Uint8Array } | undefined {
    return this.#keyPackages.get(initKey);
  }

  markKeyPackageUploaded(initKey: Uint8Array): void {
    this.#keyPackages.markUploaded(initKey);
  }

  newestKeyPackageNotUploaded(): { initKey: Uint8Array; keyPackage: Uint8Array } | undefined {
    return this.#keyPackages.newestNotUploaded();
  }

  markKeyPackageUsed(initKey: Uint8Array, ns: bigint): void {
    this.#keyPackages.markUsed(initKey, ns);
  }

  newestKeyPackageUsed(): boolean {
    return this.#keyPackages.newestUsed();
  }

  newestKeyPackageNs(): bigint | undefined {
    return this.#keyPackages.newestNs();
  }

  deleteKeyPackagesReplacedBefore(cutoffNs: bigint): number {
    return this.#keyPackages.deleteReplacedBefore(cutoffNs);
  }

  keyPackageCount(): number {
    return this.#keyPackages.count();
  }

  // Groups (group-store.ts).

  group(groupId: Uint8Array): GroupRow | undefined {
    return this.#groups.get(groupId);
  }

  groups(): GroupRow[] {
    return this.#groups.all();
  }

  /** The group keyed `prefix`, and those keyed `prefix` and `suffixLength` more bytes (conversations/local-key.ts). */
  groupsByKeyPrefix(prefix: Uint8Array, suffixLength: number): GroupRow[] {
    return this.#groups.byKeyPrefix(prefix, suffixLength);
  }

  insertGroup(row: GroupRow): void {
    this.#groups.insert(row);
  }

  /** State and cursor together: they must never disagree. */
  updateGroup(groupId: Uint8Array, state: Uint8Array, cursor: bigint): void {
    this.#groups.update(groupId, state, cursor);
  }

  /** Moves the group's cursor past an envelope that left its state as it was. */
  setCursor(groupId: Uint8Array, cursor: bigint): void {
    this.#groups.setCursor(groupId, cursor);
  }

  /**
   * A group we were removed from, joined again from a welcome: the new state,
   * the cursor of the commit that re-added us (below the old cursor when we
   * skipped envelopes while removed) and who re-added us. The creation time
   * stays.
   */
  rejoinGroup(groupId: Uint8Array, state: Uint8Array, cursor: bigint, addedByInboxId: string): void {
    this.#groups.rejoin(groupId, state, cursor, addedByInboxId);
  }

  // Per-group upkeep (group-upkeep-store.ts).

  pausedForVersion(groupId: Uint8Array): string | undefined {
    return this.#upkeep.pausedForVersion(groupId);
  }

  setPausedForVersion(groupId: Uint8Array, version: string | undefined): void {
    this.#upkeep.setPausedForVersion(groupId, version);
  }

  installationsCheckedNs(groupId: Uint8Array): bigint | undefined {
    return this.#upkeep.installationsCheckedNs(groupId);
  }

  setInstallationsCheckedNs(groupId: Uint8Array, ns: bigint): void {
    this.#upkeep.setInstallationsCheckedNs(groupId, ns);
  }

  lastOwnCommitNs(groupId: Uint8Array): bigint | undefined {
    return this.#upkeep.lastOwnCommitNs(groupId);
  }

  setLastOwnCommitNs(groupId: Uint8Array, ns: bigint): void {
    this.#upkeep.setLastOwnCommitNs(groupId, ns);
  }

  // Messages (message-store.ts) and our own payloads (own-payload-store.ts).

  insertMessage(m: StoredMessage): void {
    this.#messages.insert(m);
  }

  message(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  messages(groupId: Uint8Array | readonly Uint8Array[], q: MessageQuery = {}): StoredMessage[] {
    return this.#messages.list(groupId, q);
  }

  markMessagePublished(id: string, sentAtNs: bigint, cursor: bigint): void {
    this.#messages.markPublished(id, sentAtNs, cursor);
  }

  addOwnPayload(hash: Uint8Array, groupId: Uint8Array): void {
    this.#ownPayloads.add(hash, groupId);
  }

  isOwnPayload(hash: Uint8Array): boolean {
    return this.#ownPayloads.has(hash);
  }

  // Intents (intent-store.ts; their records: intent-record.ts).

  /** @returns the new intent's id, `published`. */
  insertIntent(row: NewIntent): bigint {
    return this.#intents.insert(row);
  }

  /** @throws ClientError `client.bad_store` for a row that does not decode. */
  intent(id: bigint): IntentRow | undefined {
    return this.#intents.get(id);
  }

  /** The group's intents in one state, oldest first. @throws ClientError `client.bad_store` */
  intents(groupId: Uint8Array, state: IntentState): IntentRow[] {
    return this.#intents.inState(groupId, state);
  }

  hasUnfinishedIntents(groupId: Uint8Array): boolean {
    return this.#intents.hasUnfinished(groupId);
  }

  /** The intent whose payload has this hash, in any state. @throws ClientError `client.bad_store` */
  intentByHash(groupId: Uint8Array, hash: Uint8Array): IntentRow | undefined {
    return this.#intents.byHash(groupId, hash);
  }

  deleteIntent(id: bigint): void {
    this.#intents.delete(id);
  }

  /** Moves an intent on; `done` and `superseded` drop its payload, staged state and welcome (secrets), `committed` and `lost` its staged state. */
  setIntentState(id: bigint, state: IntentState, cursor?: bigint): void {
    this.#intents.setState(id, state, cursor);
  }

  /** Decides an intent still waiting for its epoch; one already decided keeps its state. */
  decideIntent(id: bigint, state: "committed" | "lost", cursor?: bigint): void {
    this.#intents.decide(id, state, cursor);
  }

  // Attempts at inputs (input-attempts-store.ts): scope is the group id, or empty for a welcome.

  /** The attempts at the input at `cursor`, read and written by incoming-failure.ts retryOrGiveUp. */
  attemptLedger(kind: Arrival, scope: Uint8Array, cursor: bigint): AttemptLedger {
    return {
      attempts: () => this.#attempts.attempts(kind, scope, cursor),
      record: (attempts) => this.#attempts.setAttempts(kind, scope, cursor, attempts),
    };
  }

  clearInputAttempts(kind: Arrival, scope: Uint8Array, throughCursor: bigint): void {
    this.#attempts.clearThrough(kind, scope, throughCursor);
  }
}
