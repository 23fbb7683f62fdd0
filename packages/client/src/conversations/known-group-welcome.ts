// A welcome for a group id we already hold (../shared/spec/xmtp-client.md
// section 2.5). A welcome's group id is whatever its maker put there, and
// the node may replay or reorder welcomes, so holding the id says nothing
// about whose group the welcome is. What we hold decides:
//
// - We are an active member of it (after a sync of its messages, so that a
//   removal we had not seen yet counts): the welcome is a replay, or another
//   group squatting the id. Refused: our state moves on only by commits we
//   check (section 3.5), never by a welcome's word. libxmtp replaces an
//   active group when the welcome's epoch is above ours; the welcome's maker
//   chooses its epoch, so we are stricter.
// - We were removed from it: the welcome re-adds us (libxmtp's re-add after
//   leaving) and replaces the dead state, if it is the same conversation
//   (the immutable metadata never changes in a group: section 3.5 rule 8) at
//   a later epoch than the one we left (a replay of the welcome that first
//   brought us in is older). Everything else is refused.
//
// A welcome for a group we do not hold never reaches this: it joins as any
// other, and a welcome that was refused left nothing behind that could stand
// in the way of a later one.
import { groupExtensions, type GroupState } from "@parley/mls";

export type KnownGroupVerdict = { readonly kind: "replace" } | { readonly kind: "refuse"; readonly reason: string };

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * @param held our stored state of the group, synced up to the node's newest message.
 * @param active whether we are a member in `held`.
 * @param joined the state the welcome gives, already checked as a new group's would be.
 */
export function knownGroupWelcome(held: GroupState, active: boolean, joined: GroupState): KnownGroupVerdict {
  if (active) return { kind: "refuse", reason: "a welcome to a group we are an active member of" };
  let heldMeta: Uint8Array;
  let joinedMeta: Uint8Array;
  try {
    heldMeta = groupExtensions(held).immutableMetadata;
    joinedMeta = groupExtensions(joined).immutableMetadata;
  } catch {
    return { kind: "refuse", reason: "an XMTP extension does not decode" };
  }
  if (!sameBytes(heldMeta, joinedMeta)) return { kind: "refuse", reason: "a welcome whose immutable metadata is not the group's we left" };
  if (joined.epoch <= held.epoch) return { kind: "refuse", reason: "a welcome to an epoch no later than the one we left" };
  return { kind: "replace" };
}
