// The association rules (../shared/spec/xmtp-node-api.md section 3.5; libxmtp
// association_log.rs): one verified update applied to an inbox's state, its
// actions in order. The checks run in libxmtp's order, so that the same
// input fails for the same reason.
import { IdentityError } from "../identity-error.js";
import { toHex, type InboxId } from "../ids.js";
import { deriveInboxId } from "../inbox-id.js";
import { memberKey, sameMember, type Identifier, type MemberKind } from "../member.js";
import {
  signaturesOf,
  type SignatureKind,
  type VerifiedAction,
  type VerifiedIdentityUpdate,
  type VerifiedSignature,
} from "../update/verify-identity-update.js";
import type { AssociationState, Member } from "./association-state.js";
import { assertLogNotFull, assertRecoveryReserve } from "./recovery-reserve.js";

interface Draft {
  inboxId: InboxId;
  members: Map<string, Member>;
  recoveryIdentifier: Identifier;
}

export interface ApplyOptions {
  /** The log's sequence id of this update, recorded on the members it adds. */
  readonly sequenceId?: bigint;
}

/**
 * Applies `update` to `state` (undefined for an inbox not yet created).
 *
 * @throws IdentityError `identity.log_full`, `identity.not_created`,
 *   `identity.already_created`, `identity.bad_signature`,
 *   `identity.signature_kind_not_allowed`, `identity.replayed_signature`,
 *   `identity.adds_itself`, `identity.not_a_member`,
 *   `identity.installation_adds_installation`, `identity.chain_id_mismatch`,
 *   `identity.not_recovery_identifier`, `identity.wrong_inbox_id`,
 *   `identity.too_many_actions`, `identity.reserved_for_recovery`
 */
export function applyIdentityUpdate(
  state: AssociationState | undefined,
  update: VerifiedIdentityUpdate,
  options: ApplyOptions = {},
): AssociationState {
  assertLogNotFull(state);
  let draft: Draft | undefined =
    state === undefined
      ? undefined
      : { inboxId: state.inboxId, members: new Map(state.members), recoveryIdentifier: state.recoveryIdentifier };
  const seen = state?.seenSignatures ?? new Set<string>();
  const context = { clientTimestampNs: update.clientTimestampNs, sequenceId: options.sequenceId, seen };
  for (const action of update.actions) draft = applyAction(draft, action, context);

  if (draft === undefined) throw new IdentityError("identity.not_created", "the update creates no inbox");
  if (draft.inboxId !== update.inboxId) {
    throw new IdentityError("identity.wrong_inbox_id", "the update's inbox_id is not the inbox its actions build");
  }
  // Last: an update the reserve refuses is otherwise valid, which lets a
  // reader of a log tell it from a forgery (recovery-reserve.ts).
  assertRecoveryReserve(state, update);
  // Only after the whole update: one signature may serve several of its actions.
  const seenSignatures = new Set(seen);
  for (const action of update.actions) for (const s of signaturesOf(action)) seenSignatures.add(toHex(s.replayBytes));
  return {
    inboxId: draft.inboxId,
    members: draft.members,
    recoveryIdentifier: draft.recoveryIdentifier,
    seenSignatures,
    updateCount: (state?.updateCount ?? 0) + 1,
    ...(options.sequenceId === undefined ? {} : { sequenceId: options.sequenceId }),
  };
}

interface Context {
  readonly clientTimestampNs: bigint;
  readonly sequenceId: bigint | undefined;
  readonly seen: ReadonlySet<string>;
}

function applyAction(draft: Draft | undefined, action: VerifiedAction, context: Context): Draft {
  if (action.type === "createInbox") {
    if (draft !== undefined) throw new IdentityError("identity.already_created", "the inbox exists already");
    const signature = action.initialIdentifierSignature;
    if (!sameMember(signature.signer, action.identifier)) {
      throw new IdentityError("identity.bad_signature", "CreateInbox is not signed by its initial identifier");
    }
    assertSignatureKind(action.identifier.kind, signature.kind);
    const creator: Member = {
      identifier: action.identifier,
      ...(signature.chainId === undefined ? {} : { addedOnChainId: signature.chainId }),
      ...(context.sequenceId === undefined ? {} : { sequenceId: context.sequenceId }),
    };
    return {
      inboxId: deriveInboxId(action.identifier, action.nonce),
      members: new Map([[memberKey(action.identifier), creator]]),
      recoveryIdentifier: action.identifier,
    };
  }
  if (draft === undefined) throw new IdentityError("identity.not_created", `${action.type} on an inbox not yet created`);
  for (const signature of signaturesOf(action)) {
    if (context.seen.has(toHex(signature.replayBytes))) {
      throw new IdentityError("identity.replayed_signature", "a signature of an earlier update is used again");
    }
  }
  switch (action.type) {
    case "addAssociation":
      return addAssociation(draft, action, context);
    case "revokeAssociation": {
      assertSignedByRecovery(draft, action.recoveryIdentifierSignature);
      const revoked = memberKey(action.member);
      draft.members.delete(revoked);
      // The revoked member's installations go with it; its other children stay.
      for (const [key, member] of draft.members) {
        if (member.identifier.kind === "installation" && member.addedBy && memberKey(member.addedBy) === revoked) {
          draft.members.delete(key);
        }
      }
      return draft;
    }
    case "changeRecoveryAddress":
      assertSignedByRecovery(draft, action.recoveryIdentifierSignature);
      draft.recoveryIdentifier = action.newRecoveryIdentifier;
      return draft;
  }
}

function addAssociation(
  draft: Draft,
  action: Extract<VerifiedAction, { type: "addAssociation" }>,
  context: Context,
): Draft {
  const newSigner = action.newMemberSignature.signer;
  const existingSigner = action.existingMemberSignature.signer;
  if (!sameMember(newSigner, action.newMember)) {
    throw new IdentityError("identity.bad_signature", "the new member's signature is not by the new member");
  }
  if (sameMember(newSigner, existingSigner)) throw new IdentityError("identity.adds_itself", "a member adds itself");
  assertSignatureKind(action.newMember.kind, action.newMemberSignature.kind);

  const existing = draft.members.get(memberKey(existingSigner));
  if (existing !== undefined) assertChainId(existing, action.existingMemberSignature);
  else if (!sameMember(existingSigner, draft.recoveryIdentifier)) {
    throw new IdentityError("identity.not_a_member", "AddAssociation signed by neither a member nor the recovery identifier");
  }
  const addedBy = existing?.identifier ?? draft.recoveryIdentifier;
  assertSignatureKind(addedBy.kind, action.existingMemberSignature.kind);
  if (existingSigner.kind === "installation" && action.newMember.kind === "installation") {
    throw new IdentityError("identity.installation_adds_installation", "an installation may not add an installation");
  }
  const member: Member = {
    // The signer, not the action's identifier: for a passkey it carries the relying party.
    identifier: newSigner,
    addedBy,
    clientTimestampNs: context.clientTimestampNs,
    ...(action.newMemberSignature.chainId === undefined ? {} : { addedOnChainId: action.newMemberSignature.chainId }),
    ...(context.sequenceId === undefined ? {} : { sequenceId: context.sequenceId }),
  };
  draft.members.set(memberKey(newSigner), member);
  return draft;
}

function assertSignedByRecovery(draft: Draft, signature: VerifiedSignature): void {
  const signerAsMember = draft.members.get(memberKey(signature.signer));
  if (signerAsMember !== undefined) assertChainId(signerAsMember, signature);
  if (!sameMember(signature.signer, draft.recoveryIdentifier)) {
    throw new IdentityError("identity.not_recovery_identifier", "not signed by the inbox's recovery identifier");
  }
}

function assertChainId(member: Member, signature: VerifiedSignature): void {
  if (member.addedOnChainId !== signature.chainId) {
    throw new IdentityError("identity.chain_id_mismatch", "signed from another chain than the member was added on");
  }
}

const allowedSignatures: Record<MemberKind, readonly SignatureKind[]> = {
  ethereum: ["erc191", "erc1271"],
  installation: ["installationKey"],
  passkey: ["p256"],
};

function assertSignatureKind(kind: MemberKind, signatureKind: SignatureKind): void {
  if (!allowedSignatures[kind].includes(signatureKind)) {
    throw new IdentityError("identity.signature_kind_not_allowed", `a ${signatureKind} signature for a ${kind} member`);
  }
}
