// A group as the rest of Parley sees it: an immutable value wrapping the
// ts-mls ClientState. Every operation takes one and returns a new one; the
// old one stays valid until the caller's store has committed the new one
// (../shared/spec/mls-engine.md, "State").
import type { ClientState, MlsContext } from "ts-mls";
import { getOwnLeafNode, nodeTypes } from "../engine/ts-mls.js";
import { createAuthService, type AuthenticateMember, type TrackingAuthService } from "../authentication.js";
import { nodeCiphersuite } from "../crypto/provider.js";
import { inboxIdOfCredential, installationKeyOfLeaf, type InboxId, type InstallationKey } from "../xmtp/credential.js";
import { xmtpClientConfig } from "../xmtp/profile.js";

declare const engineBrand: unique symbol;

export interface GroupState {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  /** The engine's state; reach it only through this package. */
  readonly [engineBrand]: true;
}

interface GroupStateImpl {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly engine: ClientState;
}

export function wrapState(engine: ClientState): GroupState {
  const impl: GroupStateImpl = { groupId: engine.groupContext.groupId, epoch: engine.groupContext.epoch, engine };
  return impl as unknown as GroupState;
}

export function engineOf(state: GroupState): ClientState {
  return (state as unknown as GroupStateImpl).engine;
}

export interface EngineOptions {
  /**
   * Check key-package lifetimes of leaves received from others (default
   * true). Off only for the tree in a Welcome, as libxmtp does
   * (xmtp-client.md 1.3): a member who has not committed since being added
   * still has its key-package leaf, whose lifetime may have run out.
   */
  readonly checkReceivedLifetimes?: boolean;
}

export function engineContext(
  authenticate: AuthenticateMember,
  options: EngineOptions = {},
): { context: MlsContext; auth: TrackingAuthService } {
  const auth = createAuthService(authenticate);
  const config = xmtpClientConfig();
  const clientConfig =
    options.checkReceivedLifetimes === false
      ? { ...config, lifetimeConfig: { ...config.lifetimeConfig, validateLifetimeOnReceive: false } }
      : config;
  return { context: { cipherSuite: nodeCiphersuite(), authService: auth, clientConfig }, auth };
}

export interface GroupMember {
  readonly leafIndex: number;
  readonly inboxId: InboxId;
  readonly installationKey: InstallationKey;
  /** The leaf's HPKE public key (RFC 9420 7.2): a key update or any commit of the member with a path replaces it. */
  readonly encryptionKey: Uint8Array;
}

/** Every leaf of the tree: who is in the group. */
export function groupMembers(state: GroupState): GroupMember[] {
  const members: GroupMember[] = [];
  engineOf(state).ratchetTree.forEach((node, nodeIndex) => {
    if (node?.nodeType !== nodeTypes.leaf) return;
    members.push({
      leafIndex: nodeIndex / 2,
      inboxId: inboxIdOfCredential(node.leaf.credential),
      installationKey: installationKeyOfLeaf(node.leaf.signaturePublicKey),
      encryptionKey: node.leaf.hpkePublicKey.slice(),
    });
  });
  return members;
}

export function ownLeafIndex(state: GroupState): number {
  return engineOf(state).privatePath.leafIndex;
}

export function ownInstallationKey(state: GroupState): InstallationKey {
  return installationKeyOfLeaf(getOwnLeafNode(engineOf(state)).signaturePublicKey);
}

/**
 * The epoch authenticator of the state's epoch (RFC 9420 8.7): equal on two
 * members exactly when they hold the same epoch. Not a secret; XMTP's
 * commit log publishes it to detect forks.
 */
export function epochAuthenticator(state: GroupState): Uint8Array {
  return engineOf(state).keySchedule.epochAuthenticator.slice();
}

/**
 * Whether a commit removed us. The tree may still show our leaf: a commit
 * that removes us is read from its proposals and not applied, since its
 * UpdatePath holds nothing we can decrypt.
 */
export function isRemoved(state: GroupState): boolean {
  return engineOf(state).groupActiveState.kind === "removedFromGroup";
}
