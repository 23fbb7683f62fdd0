// Request limits of the node, with their defaults.
import { maxIdentityUpdates } from "@parley/identity";

export interface RequestLimits {
  /** Largest MLS message or wrapped Welcome accepted, in bytes. */
  readonly maxPayloadBytes: number;
  /** Most messages in one SendGroupMessages or SendWelcomeMessages. */
  readonly maxBatch: number;
  /** Most keys in one FetchKeyPackages, groups in one GetNewestGroupMessage, etc. */
  readonly maxLookups: number;
  /** Most updates in one inbox's log (the protocol's limit, xmtp-node-api.md section 2.2). */
  readonly maxInboxUpdates: number;
}

export const defaultRequestLimits: RequestLimits = {
  // libxmtp caps its own payloads at 25 MiB; inline attachments are far
  // smaller, and anything larger belongs in a remote attachment.
  maxPayloadBytes: 25 * 1024 * 1024,
  maxBatch: 1000,
  maxLookups: 10_000,
  maxInboxUpdates: maxIdentityUpdates,
};
