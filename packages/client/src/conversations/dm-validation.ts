// What makes a group a DM (../shared/spec/xmtp-client.md sections 2.5 step 4,
// 3.2 and 3.6): the immutable metadata's `dm_members` is a claim made by
// whoever built the group, so it is checked against the group itself before
// the group is listed, stitched or returned as a DM.
//
// - The shape, held on joining, after every commit and when a stored group
//   is opened: two distinct inboxes are named, every inbox of the 0xFF01 map
//   and every leaf of the tree is one of them, the admin and super admin
//   lists are empty, and the membership, admin and permission policies are
//   those of `PolicySet::new_dm()` (deny, deny, deny, deny, deny). With
//   those policies no later commit can add a third inbox: only the DM
//   members' bypass of section 3.2 adds anyone.
// - On joining (libxmtp `validate_dm_group`): we are one of the two named
//   inboxes, and unless we added ourselves (another installation of ours
//   made it) the other is the inbox that added us.
//
// libxmtp checks the pair and the admin lists, and the policies leniently
// (it refuses only when all five differ); it does not compare the members
// with the named pair. We are stricter on both: a "DM" with a third member,
// or with a policy that would let one in later, is not a DM.
import { create, equals } from "@bufbuild/protobuf";
import { groupExtensions, groupMembers, type GroupState } from "@parley/mls";
import { messageContents as mc } from "@parley/proto";
import { decodeImmutableMetadata, decodeMembership, decodeMutableMetadata } from "./group-metadata.js";
import { decodePolicySet } from "./permissions.js";

const M = mc.MembershipPolicy_BasePolicy;
const P = mc.PermissionsUpdatePolicy_PermissionsBasePolicy;

const denyMembership = create(mc.MembershipPolicySchema, { kind: { case: "base", value: M.DENY } });
const denyPermissions = create(mc.PermissionsUpdatePolicySchema, { kind: { case: "base", value: P.DENY } });

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The two inboxes a DM names, or undefined when the group is not a DM. */
export function namedDmPair(state: GroupState): readonly [string, string] | undefined {
  const meta = decodeImmutableMetadata(groupExtensions(state).immutableMetadata);
  if (meta.conversationType !== mc.ConversationType.DM) return undefined;
  return [meta.dmMembers?.dmMemberOne?.inboxId ?? "", meta.dmMembers?.dmMemberTwo?.inboxId ?? ""];
}

/**
 * The shape every DM keeps (see the header). Not for groups of another
 * conversation type.
 *
 * @returns undefined when the group is a sound DM, else what is wrong (for
 *   logs: no inbox ids).
 */
export function dmShapeViolation(state: GroupState): string | undefined {
  try {
    const pair = namedDmPair(state);
    if (pair === undefined) return "not a DM";
    const [one, two] = pair;
    if (one === "" || two === "") return "the DM does not name two members";
    if (same(one, two)) return "the DM names the same inbox twice";
    const named = (inboxId: string) => same(inboxId, one) || same(inboxId, two);
    const ext = groupExtensions(state);
    for (const inboxId of decodeMembership(ext.membership).keys()) if (!named(inboxId)) return "an inbox in the DM that it does not name";
    for (const leaf of groupMembers(state)) if (!named(leaf.inboxId)) return "a leaf in the DM of an inbox it does not name";
    const meta = decodeMutableMetadata(ext.mutableMetadata);
    if ((meta.adminList?.inboxIds.length ?? 0) > 0 || (meta.superAdminList?.inboxIds.length ?? 0) > 0) return "a DM with admins";
    const policies = decodePolicySet(ext.permissions);
    if (policies === undefined) return "the DM's policies do not decode";
    const dmPolicies =
      equals(mc.MembershipPolicySchema, policies.addMemberPolicy ?? create(mc.MembershipPolicySchema), denyMembership) &&
      equals(mc.MembershipPolicySchema, policies.removeMemberPolicy ?? create(mc.MembershipPolicySchema), denyMembership) &&
      equals(mc.PermissionsUpdatePolicySchema, policies.addAdminPolicy ?? create(mc.PermissionsUpdatePolicySchema), denyPermissions) &&
      equals(mc.PermissionsUpdatePolicySchema, policies.removeAdminPolicy ?? create(mc.PermissionsUpdatePolicySchema), denyPermissions) &&
      equals(mc.PermissionsUpdatePolicySchema, policies.updatePermissionsPolicy ?? create(mc.PermissionsUpdatePolicySchema), denyPermissions);
    return dmPolicies ? undefined : "the DM's policies are not the DM policies";
  } catch {
    return "an XMTP extension does not decode";
  }
}

/**
 * The checks of a DM we join from a welcome (section 2.5 step 4): its shape,
 * and the pair is {us, the inbox that added us} (just "us among them" when
 * we added ourselves).
 *
 * @returns undefined when the group is not a DM or is a sound DM for us, else
 *   what is wrong (for logs).
 */
export function dmWelcomeViolation(state: GroupState, ownInboxId: string, addedByInboxId: string | undefined): string | undefined {
  let pair: readonly [string, string] | undefined;
  try {
    pair = namedDmPair(state);
  } catch {
    return "an XMTP extension does not decode";
  }
  if (pair === undefined) return undefined;
  const shape = dmShapeViolation(state);
  if (shape !== undefined) return shape;
  const [one, two] = pair;
  const ours = same(one, ownInboxId) ? two : same(two, ownInboxId) ? one : undefined;
  if (ours === undefined) return "a DM that does not name us";
  if (addedByInboxId === undefined || addedByInboxId === "") return "a DM with no known adder";
  if (!same(addedByInboxId, ownInboxId) && !same(addedByInboxId, ours)) return "a DM added by an inbox it does not name";
  return undefined;
}
