// What the node keeps, behind one interface with one implementation per
// database (SQLite today; PostgreSQL is planned) and one contract test suite
// (store-contract.ts) that every implementation passes unchanged.
//
// Every write resolves only after its transaction has committed: what the
// node acknowledges is durable. Ids are one increasing sequence per kind of
// record; within one topic (a group, an installation's welcomes, an inbox)
// they increase in commit order, so a reader that follows a topic by
// `id > cursor` never skips a record.
//
// Timestamps (created_ns) are unique and strictly increasing per topic too,
// in id order, across restarts and whatever the clock does: clients list a
// conversation by them (the official client by nothing else), so a tie would
// let members list one group in different orders.

export type SortDirection = "ascending" | "descending";

export interface Page {
  readonly direction: SortDirection;
  /** At least 1; the service applies the protocol's default and maximum. */
  readonly limit: number;
  /** Exclusive; 0n means from the oldest (ascending) or newest (descending). */
  readonly cursor: bigint;
  /** Inclusive bound on the far side (the last id of an ascending page, the first of a descending one); none when absent. */
  readonly until?: bigint | undefined;
}

/** A record's id and the bytes of payload it carries in an answer, read without its payload. */
export interface RecordSize {
  readonly id: bigint;
  readonly bytes: number;
}

export interface GroupMessageRecord {
  readonly id: bigint;
  readonly createdNs: bigint;
  readonly groupId: Uint8Array;
  readonly data: Uint8Array;
  readonly senderHmac: Uint8Array;
  readonly shouldPush: boolean;
  readonly isCommit: boolean;
}

export type NewGroupMessage = Omit<GroupMessageRecord, "id" | "createdNs">;

export type WelcomeKind = "v1" | "pointer";

export interface WelcomeRecord {
  readonly id: bigint;
  readonly createdNs: bigint;
  readonly kind: WelcomeKind;
  readonly installationKey: Uint8Array;
  /** The wrapped Welcome (v1) or the wrapped pointer (pointer). */
  readonly data: Uint8Array;
  readonly hpkePublicKey: Uint8Array;
  /** The protocol's enum number for the wrapper algorithm of this kind. */
  readonly wrapperAlgorithm: number;
  readonly welcomeMetadata: Uint8Array;
}

export type NewWelcome = Omit<WelcomeRecord, "id" | "createdNs">;

export interface IdentityUpdateRecord {
  readonly sequenceId: bigint;
  readonly inboxId: string;
  readonly serverTimestampNs: bigint;
  /** The IdentityUpdate exactly as published (its signatures cover it). */
  readonly update: Uint8Array;
}

export interface NewIdentityUpdate {
  readonly inboxId: string;
  readonly update: Uint8Array;
  /**
   * The sequence id of the inbox's newest update when the caller validated
   * against the log (0n for a new inbox). If the log has moved since, nothing
   * is written and the result is "conflict": validate again.
   */
  readonly expectedLastSequenceId: bigint;
  /** At most this many updates per inbox. */
  readonly maxUpdates: number;
  /** Ethereum addresses this update associates with the inbox. */
  readonly addressesAdded: readonly string[];
  /** Ethereum addresses this update revokes from the inbox. */
  readonly addressesRemoved: readonly string[];
}

export type AppendIdentityResult =
  | { readonly status: "appended"; readonly record: IdentityUpdateRecord }
  | { readonly status: "conflict" }
  | { readonly status: "full" };

export interface CommitLogRecord {
  readonly id: bigint;
  readonly groupId: Uint8Array;
  readonly entry: Uint8Array;
  /** An encoded RecoverableEd25519Signature, as received. */
  readonly signature: Uint8Array;
}

export type NewCommitLogEntry = Omit<CommitLogRecord, "id">;

export interface Store {
  /**
   * Appends group messages in one transaction: all or none. A message whose
   * group id and data were stored before is not stored again; its existing
   * record is returned in its place.
   */
  appendGroupMessages(messages: readonly NewGroupMessage[]): Promise<GroupMessageRecord[]>;
  queryGroupMessages(groupId: Uint8Array, page: Page): Promise<GroupMessageRecord[]>;
  /**
   * The sizes of the records `queryGroupMessages` would return for the
   * same page (data and sender HMAC), without reading their data: what
   * lets a caller bound an answer's bytes before reading it.
   */
  groupMessageSizes(groupId: Uint8Array, page: Page): Promise<RecordSize[]>;
  /** The highest-id message of each group, in request order. */
  newestGroupMessages(groupIds: readonly Uint8Array[]): Promise<(GroupMessageRecord | undefined)[]>;

  /** Like appendGroupMessages, deduplicated on installation key and data. */
  appendWelcomes(welcomes: readonly NewWelcome[]): Promise<WelcomeRecord[]>;
  queryWelcomes(installationKey: Uint8Array, page: Page): Promise<WelcomeRecord[]>;
  /** As groupMessageSizes, for welcomes (data, HPKE public key and metadata). */
  welcomeSizes(installationKey: Uint8Array, page: Page): Promise<RecordSize[]>;

  /**
   * Replaces the installation's current key package, unless the one stored
   * starts later (`notBefore`, seconds): key packages are public, and a
   * replayed older one would bring back a key package whose private half
   * its owner has deleted, or one already used.
   *
   * @returns false when the stored one is newer and stays.
   */
  putKeyPackage(installationKey: Uint8Array, keyPackage: Uint8Array, notBefore: bigint): Promise<boolean>;
  /** The current key package of each installation, in request order. */
  fetchKeyPackages(installationKeys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;

  appendIdentityUpdate(update: NewIdentityUpdate): Promise<AppendIdentityResult>;
  /** The inbox's updates with sequence id above `after`, ascending. */
  identityUpdates(inboxId: string, after: bigint): Promise<IdentityUpdateRecord[]>;
  /** The inbox each address is currently associated with, in request order. */
  inboxIdsOf(addresses: readonly string[]): Promise<(string | undefined)[]>;

  appendCommitLog(entries: readonly NewCommitLogEntry[]): Promise<CommitLogRecord[]>;
  queryCommitLog(groupId: Uint8Array, page: Page): Promise<CommitLogRecord[]>;

  /**
   * Deletes, oldest first, up to `limit` records of each kind created
   * before its cutoff: group messages (commits included) and commit log
   * entries before `groupMessagesBeforeNs`, welcomes before
   * `welcomesBeforeNs`; a kind whose cutoff is undefined is kept. Ids are
   * never handed out again, so a reader's cursor stays valid.
   */
  deleteExpired(cutoff: ExpiryCutoff, limit: number): Promise<ExpiredCounts>;

  /** Finishes pending writes and releases the database. */
  close(): Promise<void>;
}

export interface ExpiryCutoff {
  readonly groupMessagesBeforeNs?: bigint | undefined;
  readonly welcomesBeforeNs?: bigint | undefined;
}

export interface ExpiredCounts {
  readonly groupMessages: number;
  readonly commitLog: number;
  readonly welcomes: number;
}
