// A welcome for a group id we already hold (../shared/spec/xmtp-client.md
// section 2.5). A welcome's group id is whatever its maker put there, and
// the node may replay or reorder welcomes, so holding the id says nothing
// about whose group the welcome is. Every group we hold on the id (there can
// be several: local-key.ts), each synced first so that a removal we had not
// seen yet counts, decides:
//
// - One of them held the welcome's epoch with the same epoch authenticator
//   (RFC 9420 8.7: it commits to the whole key schedule of the epoch, so
//   only the same group at the same epoch has it): the welcome is a replay
//   of one we took, and is refused. Our state moves on only by commits we
//   check (section 3.5), never by a welcome's word.
// - One of them is a group we were removed from, and the welcome re-adds us
//   (libxmtp's re-add after leaving): it replaces the dead state, if it is
//   the same conversation (the immutable metadata never changes in a group:
//   section 3.5 rule 8) at a later epoch than the one we left.
// - Otherwise the welcome is for another group that carries the same id (a
//   squatter's, or the real one after a squatter's reached us first): it is
//   joined as a conversation of its own, under a new local key. Nothing in a
//   welcome tells the real group from the squatter (id, epoch, metadata and
//   cursor are the maker's), so neither may push the other out.
//
// Every epoch we hold is on record (commit-log.ts `recordJoined`,
// `recordCommit`), so a replay is recognised; a welcome at an epoch we never
// held is not one, even for the same group (a node that withheld the commits
// to it): it joins as a second conversation, a duplicate, never a fork.
//
// libxmtp keys groups by group id alone (one stored group per id), so there
// the first of two groups on an id to arrive holds it and the other's
// welcome is dropped or waits.
//
// A welcome for a group id we do not hold never reaches this: it joins as
// any other, and a welcome that was refused left nothing behind that could
// stand in the way of a later one.
import { epochAuthenticator, groupExtensions, type GroupState } from "@parley/mls";

/** A group we hold on the welcome's id, synced up to the node's newest message. */
export interface HeldGroup {
  readonly state: GroupState;
  /** Whether we are a member in `state`. */
  readonly active: boolean;
  /** The epoch authenticator we recorded for `epoch`, if we held that epoch. */
  authenticatorAt(epoch: bigint): Uint8Array | undefined;
}

export type KnownGroupVerdict =
  /** Replace the state of `held[index]`: a group we were removed from re-adds us. */
  | { readonly kind: "replace"; readonly index: number }
  /** Another group on the same id: join it under a new local key. */
  | { readonly kind: "join" }
  | { readonly kind: "refuse"; readonly reason: string };

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** Whether `joined` re-adds us to `held`, a group we were removed from; why not otherwise. */
function rejoinRefusal(held: GroupState, joined: GroupState): string | undefined {
  let heldMeta: Uint8Array;
  let joinedMeta: Uint8Array;
  try {
    heldMeta = groupExtensions(held).immutableMetadata;
    joinedMeta = groupExtensions(joined).immutableMetadata;
  } catch {
    return "an XMTP extension does not decode";
  }
  if (!sameBytes(heldMeta, joinedMeta)) return "a welcome whose immutable metadata is not the group's we left";
  if (joined.epoch <= held.epoch) return "a welcome to an epoch no later than the one we left";
  return undefined;
}

/**
 * @param held every group we hold on the welcome's group id, oldest first.
 * @param joined the state the welcome gives, already checked as a new group's would be.
 */
export function knownGroupWelcome(held: readonly HeldGroup[], joined: GroupState): KnownGroupVerdict {
  const authenticator = epochAuthenticator(joined);
  for (const h of held) {
    const ours = h.authenticatorAt(joined.epoch);
    if (ours === undefined || !sameBytes(ours, authenticator)) continue;
    return {
      kind: "refuse",
      reason: h.active ? "a welcome to a group we are an active member of" : (rejoinRefusal(h.state, joined) ?? "a replay of a welcome to a group we hold"),
    };
  }
  const index = held.findIndex((h) => !h.active && rejoinRefusal(h.state, joined) === undefined);
  return index === -1 ? { kind: "join" } : { kind: "replace", index };
}
