// Request limits of the node, with their defaults.
import { maxIdentityUpdates } from "@parley/identity";

/** The reference node's maxBatchInserts and maxBatchQueries of the commit log (xmtp-node-api.md section 1.4). */
export const MAX_COMMIT_LOG_PUBLISH = 10;
export const MAX_COMMIT_LOG_QUERIES = 20;

export interface RequestLimits {
  /** Largest MLS message or wrapped Welcome accepted, in bytes. */
  readonly maxPayloadBytes: number;
  /** Most messages in one SendGroupMessages or SendWelcomeMessages. */
  readonly maxBatch: number;
  /** Most keys in one FetchKeyPackages, groups in one GetNewestGroupMessage, etc. */
  readonly maxLookups: number;
  /** Most updates in one inbox's log (the protocol's limit, xmtp-node-api.md section 2.2). */
  readonly maxInboxUpdates: number;
  /** Largest key package accepted, in bytes. */
  readonly maxKeyPackageBytes: number;
  /** Largest identity update accepted, in bytes (after unknown fields are dropped). */
  readonly maxIdentityUpdateBytes: number;
  /** Largest commit log entry accepted, in bytes. */
  readonly maxCommitLogEntryBytes: number;
  /**
   * Most bytes of records in one answer: a page stops early (and its cursor
   * says where to go on), a lookup past it is RESOURCE_EXHAUSTED. A page
   * always carries its first record, whatever its size.
   */
  readonly maxAnswerBytes: number;
}

export const defaultRequestLimits: RequestLimits = {
  // libxmtp caps its own payloads at 25 MiB; inline attachments are far
  // smaller, and anything larger belongs in a remote attachment.
  maxPayloadBytes: 25 * 1024 * 1024,
  maxBatch: 1000,
  maxLookups: 10_000,
  maxInboxUpdates: maxIdentityUpdates,
  // libxmtp's key packages are about 400 bytes, its identity updates a few
  // hundred (a passkey's adds some JSON): a wide margin, but no room for a
  // request of a few kilobytes to be answered with hundreds of megabytes.
  maxKeyPackageBytes: 64 * 1024,
  maxIdentityUpdateBytes: 64 * 1024,
  // libxmtp's entries (a commit's hash, epochs and a signature) are a few
  // hundred bytes.
  maxCommitLogEntryBytes: 64 * 1024,
  maxAnswerBytes: 32 * 1024 * 1024,
};
