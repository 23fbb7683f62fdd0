// What the node checks before it stores anything. It can read none of the
// content, so these checks are about shape and signatures: that a key
// package is a valid, signed, unexpired suite-3 key package with an inbox id
// credential; that a group message is MLS protocol-message framing; that an
// identity update, replayed after the inbox's log, still validates. The
// implementations live in xmtp-validators.ts, on @parley/mls and
// @parley/identity; each throws NodeError `node.invalid_argument` whose
// cause is the library's error, whose code the edge logs.
import type { InboxId, InstallationKey } from "@parley/proto";

export interface KeyPackageFacts {
  /** The leaf's signature key: the installation key the node files it under. */
  readonly installationKey: InstallationKey;
  readonly inboxId: InboxId;
  /** The leaf's lifetime start (RFC 9420 7.2), in seconds: what orders one installation's key packages. */
  readonly notBefore: bigint;
}

export interface GroupMessageFacts {
  readonly groupId: Uint8Array;
  /** A commit or a proposal. */
  readonly isCommit: boolean;
}

export interface IdentityUpdateFacts {
  /** Ethereum addresses the update associates with the inbox. */
  readonly addressesAdded: readonly string[];
  /** Ethereum addresses it revokes. */
  readonly addressesRemoved: readonly string[];
  /**
   * Called once the update is stored under `sequenceId`, so that the
   * validator can keep the inbox's new state and not replay the log next time.
   */
  readonly stored?: (sequenceId: bigint) => void;
}

export interface StoredIdentityUpdate {
  readonly sequenceId: bigint;
  readonly update: Uint8Array;
}

export interface Validators {
  keyPackage(keyPackage: Uint8Array): Promise<KeyPackageFacts>;
  groupMessage(data: Uint8Array): GroupMessageFacts;
  /** `log` is the inbox's updates so far, oldest first, as stored. */
  identityUpdate(inboxId: InboxId, log: readonly StoredIdentityUpdate[], update: Uint8Array): Promise<IdentityUpdateFacts>;
}
