// What keeps an inbox in its owner's hands: the log's cap and the slots of
// it kept for the recovery identifier. The node caps an inbox's log at 256
// updates (../shared/spec/xmtp-node-api.md sections 2.2 and 3.5), and any
// member may publish. Without a reserve, one stolen installation signs
// AddAssociations of wallets it makes itself (it is the existing member,
// the new wallet signs for itself) until the log is full; the recovery
// identifier's revocation of that installation is then refused for good.
//
// The rule, on an update that carries no signature by the inbox's recovery
// identifier (as it is before the update; only the recovery identifier can
// make one, and a signature covers the whole update's text):
//   - it may not take the log past 240 updates: the last 16 are the
//     recovery identifier's, who needs one to revoke and one to name a new
//     recovery identifier, and keeps the rest to register devices again;
//   - it holds one action: so the members all such updates can add, at most
//     240, are revoked by the owner in one update (240 revocations are about
//     30 KB, under the node's 64 KiB cap on an update), and nothing a stolen
//     installation or the wallets it added can publish outgrows the reserve.
// The official client never signs more than one action without the
// recovery identifier (register an installation, add a wallet: one
// AddAssociation each; revocations and recovery changes are the recovery
// identifier's), so in normal use it meets neither part before 240 updates.
//
// The node refuses an update that breaks the rule. A reader of a log (the
// client) takes an entry that breaks it as without effect: it keeps its
// place (the count and the sequence id move on) and changes nothing, so
// every reader reaches the same state from the same log, and a node that
// stored past the rule cannot make a client accept what it forbids.
import { IdentityError, isIdentityError, type IdentityErrorCode } from "../identity-error.js";
import { sameMember } from "../member.js";
import { signaturesOf, type VerifiedIdentityUpdate } from "../update/verify-identity-update.js";
import type { AssociationState } from "./association-state.js";

/** The node's cap on one inbox's log. */
export const maxIdentityUpdates = 256;

/** The last slots of the log, only for updates the recovery identifier signs. */
export const recoveryReservedUpdates = 16;

/** How many updates a log may hold before an update without the recovery identifier's signature is refused. */
export const maxUpdatesWithoutRecovery = maxIdentityUpdates - recoveryReservedUpdates;

const reserveCodes: ReadonlySet<IdentityErrorCode> = new Set(["identity.reserved_for_recovery", "identity.too_many_actions"]);

/**
 * Refuses any update to an inbox whose log is full.
 *
 * @throws IdentityError `identity.log_full`
 */
export function assertLogNotFull(state: AssociationState | undefined): void {
  if (state !== undefined && state.updateCount >= maxIdentityUpdates) {
    throw new IdentityError("identity.log_full", `the inbox already holds ${maxIdentityUpdates} updates`);
  }
}

/**
 * Whether `update`, applied to `before`, keeps the reserve. The first
 * update of an inbox always does: it is signed by the identifier it makes
 * the recovery identifier.
 *
 * @throws IdentityError `identity.reserved_for_recovery`, `identity.too_many_actions`
 */
export function assertRecoveryReserve(before: AssociationState | undefined, update: VerifiedIdentityUpdate): void {
  if (before === undefined) return;
  const recovery = before.recoveryIdentifier;
  if (update.actions.some((action) => signaturesOf(action).some((s) => sameMember(s.signer, recovery)))) return;
  if (update.actions.length > 1) {
    throw new IdentityError("identity.too_many_actions", "an update not signed by the recovery identifier holds one action");
  }
  if (before.updateCount >= maxUpdatesWithoutRecovery) {
    throw new IdentityError(
      "identity.reserved_for_recovery",
      `past ${maxUpdatesWithoutRecovery} updates, the log takes only updates signed by the recovery identifier`,
    );
  }
}

/** Whether `error` is a refusal by the reserve (which a reader of a log takes as an entry without effect). */
export function isRecoveryReserveRefusal(error: unknown): error is IdentityError {
  return isIdentityError(error) && reserveCodes.has(error.code);
}

/** The state after a log entry the reserve refused: one more entry, nothing else changed. */
export function withoutEffect(state: AssociationState, sequenceId: bigint | undefined): AssociationState {
  return { ...state, updateCount: state.updateCount + 1, ...(sequenceId === undefined ? {} : { sequenceId }) };
}
