// The association state of an inbox (../shared/spec/xmtp-node-api.md
// section 3; libxmtp state.rs): its members, its recovery identifier, and
// the signatures already used. Values are immutable: applying an update
// gives a new state and leaves the old one valid.
import type { InboxId, InstallationId } from "../ids.js";
import { memberKey, type Identifier, type MemberIdentifier } from "../member.js";

export interface Member {
  readonly identifier: MemberIdentifier;
  /** Who added it; absent for the inbox's creator. */
  readonly addedBy?: MemberIdentifier;
  /** The client time of the update that added it; absent for the creator. */
  readonly clientTimestampNs?: bigint;
  /** For smart-wallet members, the chain of the signature that added them. */
  readonly addedOnChainId?: bigint;
  /** The sequence id of the log entry that added it, when replayed from a log. */
  readonly sequenceId?: bigint;
}

export interface AssociationState {
  readonly inboxId: InboxId;
  /** By {@link memberKey}. */
  readonly members: ReadonlyMap<string, Member>;
  readonly recoveryIdentifier: Identifier;
  /** Hex of every signature used by an applied update: none may be used again. */
  readonly seenSignatures: ReadonlySet<string>;
  /** How many updates built this state (the log holds at most 256). */
  readonly updateCount: number;
  /** The sequence id of the last update applied, when replayed from a log. */
  readonly sequenceId?: bigint;
}

export interface AssociationStateDiff {
  readonly newMembers: readonly MemberIdentifier[];
  readonly removedMembers: readonly MemberIdentifier[];
}

export function getMember(state: AssociationState, identifier: MemberIdentifier): Member | undefined {
  return state.members.get(memberKey(identifier));
}

export function isMember(state: AssociationState, identifier: MemberIdentifier): boolean {
  return state.members.has(memberKey(identifier));
}

/** Members in the order libxmtp lists them: by client time, the creator last. */
export function listMembers(state: AssociationState): Member[] {
  const time = (m: Member) => m.clientTimestampNs ?? 2n ** 64n;
  return [...state.members.values()].sort((a, b) => (time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : 0));
}

/** The installations of the inbox: the keys that may be in its groups. */
export function listInstallations(state: AssociationState): (Member & { readonly identifier: { readonly kind: "installation"; readonly key: InstallationId } })[] {
  return listMembers(state).filter(
    (m): m is Member & { readonly identifier: { readonly kind: "installation"; readonly key: InstallationId } } =>
      m.identifier.kind === "installation",
  );
}

/** The wallets and passkeys of the inbox. */
export function listIdentifiers(state: AssociationState): (Member & { readonly identifier: Identifier })[] {
  return listMembers(state).filter(
    (m): m is Member & { readonly identifier: Identifier } => m.identifier.kind !== "installation",
  );
}

/** What changed between two states of one inbox; `before` undefined for a new inbox. */
export function diffStates(before: AssociationState | undefined, after: AssociationState): AssociationStateDiff {
  const old = before?.members ?? new Map<string, Member>();
  return {
    newMembers: [...after.members].filter(([key]) => !old.has(key)).map(([, m]) => m.identifier),
    removedMembers: [...old].filter(([key]) => !after.members.has(key)).map(([, m]) => m.identifier),
  };
}
