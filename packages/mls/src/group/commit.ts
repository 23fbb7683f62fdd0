// Commits this member makes (RFC 9420 12.4), in XMTP's shapes
// (xmtp-client.md 3.3, 3.4, 3.7): a membership change is ONE commit holding
// the Add/Remove proposals and a GroupContextExtensions proposal rewriting
// 0xFF01; a metadata/permission change is a GCE-only commit; a key update is
// an empty commit with a path. Always a PrivateMessage, always with the
// ratchet tree in the Welcome's GroupInfo.
import type { ClientState, Proposal } from "ts-mls";
import { createCommit, defaultProposalTypes, encode, mlsMessageEncoder } from "../engine/ts-mls.js";
import { refusedMemberError, type AuthenticateMember } from "../authentication.js";
import { guard } from "../engine-errors.js";
import {
  checkKeyPackage,
  decodeKeyPackage,
  publicView,
  type CheckedKeyPackage,
  type ValidatedKeyPackage,
} from "../key-package.js";
import { MlsError } from "../mls-error.js";
import type { InstallationKey } from "../xmtp/credential.js";
import { replaceExtensions, type XmtpExtensionChanges } from "../xmtp/group-extensions.js";
import { dropBlankedKeys } from "./commit-checks.js";
import type { Consumed } from "./consumed.js";
import { engineContext, engineOf, groupMembers, ownLeafIndex, wrapState, type GroupState } from "./group-state.js";

export interface CommitResult {
  /** The state after the commit: merge it once the node has accepted the commit. */
  readonly state: GroupState;
  /**
   * The current epoch's state with our handshake ratchet past the generation
   * the commit used (RFC 9420 9.2): store it in place of the current state
   * before publishing, so that a commit rebuilt in this epoch takes the next
   * generation and the used one's secret leaves the store.
   */
  readonly sent: GroupState;
  /** The MLSMessage (PrivateMessage) to publish. */
  readonly commit: Uint8Array;
  /** The MLSMessage Welcome for the added members, when there are any; wrap it per recipient. */
  readonly welcome?: Uint8Array;
  /** The key packages added, for welcome wrapping (their init keys). */
  readonly added: readonly ValidatedKeyPackage[];
  /**
   * The old epoch's secrets the commit used up: erase once the state it
   * leads to is stored (the old state stays valid in the store until the
   * commit wins its epoch).
   */
  readonly consumed: Consumed;
}

export interface MembershipChange {
  /** TLS-serialized key packages of the installations to add. */
  readonly add?: readonly Uint8Array[];
  /** Installation keys of the leaves to remove. */
  readonly remove?: readonly InstallationKey[];
  /** The new `GroupMembership` protobuf for 0xFF01. */
  readonly membership: Uint8Array;
  readonly authenticate: AuthenticateMember;
  readonly nowSeconds?: bigint;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function commitWith(
  what: string,
  state: GroupState,
  proposals: Proposal[],
  authenticate: AuthenticateMember,
  added: CheckedKeyPackage[],
): Promise<CommitResult> {
  const { context, auth } = engineContext(authenticate);
  return guard(what, "mls.internal", async () => {
    try {
      const before = engineOf(state);
      const result = await createCommit({
        context,
        // ts-mls bundles every stored proposal into the commit by reference
        // (RFC 9420 12.4), which would carry another member's change under
        // our name. XMTP commits only its own proposals, by value
        // (xmtp-client.md 3.3, 3.7): the commit never sees the store.
        state: { ...before, unappliedProposals: {} },
        extraProposals: proposals,
        ratchetTreeExtension: true,
        wireAsPublicMessage: false,
      });
      // The engine's mend commit-sender-tree (engine/mends.ts) returns it.
      const { senderSecretTree } = result as typeof result & { senderSecretTree: ClientState["secretTree"] };
      return {
        // Keys of nodes the commit blanks stay in the old state only (RFC 9420 9.2).
        state: wrapState(dropBlankedKeys(result.newState).engine),
        sent: wrapState({ ...before, secretTree: senderSecretTree }),
        commit: encode(mlsMessageEncoder, result.commit),
        ...(result.welcome === undefined ? {} : { welcome: encode(mlsMessageEncoder, result.welcome) }),
        added: added.map(publicView),
        consumed: result.consumed,
      };
    } catch (error) {
      const refused = refusedMemberError(auth, what, error);
      if (refused !== undefined) throw refused;
      throw error;
    }
  });
}

/**
 * Adds and removes installations in one commit with a GroupContextExtensions
 * proposal carrying the new 0xFF01 membership.
 *
 * @throws MlsError `mls.malformed` / `mls.bad_signature` / `mls.expired_key_package` /
 *   `mls.bad_key_package` for a bad key package, `mls.unauthenticated_member`,
 *   `mls.usage` when a removed installation is not in the group or is our own.
 */
export async function updateMembership(state: GroupState, change: MembershipChange): Promise<CommitResult> {
  const opts = {
    ...(change.nowSeconds === undefined ? {} : { nowSeconds: change.nowSeconds }),
    // ts-mls verifies both key package signatures when it takes the Add.
    signaturesCheckedLater: true,
  };
  const added: CheckedKeyPackage[] = [];
  for (const bytes of change.add ?? []) added.push(await checkKeyPackage(decodeKeyPackage(bytes), opts));
  const members = groupMembers(state);
  const own = ownLeafIndex(state);
  const proposals: Proposal[] = [];
  for (const key of change.remove ?? []) {
    const member = members.find((m) => sameBytes(m.installationKey, key));
    if (member === undefined) throw new MlsError("mls.usage", "updateMembership: installation to remove is not in the group");
    // RFC 9420 12.2: a commit cannot remove its committer (libxmtp: leave by LeaveRequest).
    if (member.leafIndex === own) throw new MlsError("mls.usage", "updateMembership: cannot remove our own installation");
    proposals.push({ proposalType: defaultProposalTypes.remove, remove: { removed: member.leafIndex } });
  }
  for (const kp of added) proposals.push({ proposalType: defaultProposalTypes.add, add: { keyPackage: kp.keyPackage } });
  proposals.push(gceProposal(state, { membership: change.membership }));
  return commitWith("updateMembership", state, proposals, change.authenticate, added);
}

function gceProposal(state: GroupState, changes: XmtpExtensionChanges): Proposal {
  return {
    proposalType: defaultProposalTypes.group_context_extensions,
    groupContextExtensions: { extensions: replaceExtensions(engineOf(state).groupContext.extensions, changes) },
  };
}

/** A commit with only a GroupContextExtensions proposal (metadata, admins, permissions). */
export async function updateGroupExtensions(
  state: GroupState,
  changes: XmtpExtensionChanges,
  authenticate: AuthenticateMember,
): Promise<CommitResult> {
  return commitWith("updateGroupExtensions", state, [gceProposal(state, changes)], authenticate, []);
}

/** An empty commit with a path: rotates our leaf and the group's secrets. */
export async function selfUpdate(state: GroupState, authenticate: AuthenticateMember): Promise<CommitResult> {
  return commitWith("selfUpdate", state, [], authenticate, []);
}
