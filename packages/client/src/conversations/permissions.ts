// Group permissions (../shared/spec/xmtp-client.md sections 1.5, 3.2, 3.5
// rule 5, 3.6): the 0xFF02 payload (GroupMutablePermissionsV1 → PolicySet)
// decoded and checked, XMTP's policy kinds evaluated for an actor, and the
// permission rules of a change between two sets of group extensions.
//
// Policies are read from the group as it was BEFORE the change, and the
// actor's roles too, as libxmtp's evaluate_commit does: a commit cannot
// grant itself the rights it needs.
import { create } from "@bufbuild/protobuf";
import type { XmtpGroupExtensions } from "@parley/mls";
import { decode, messageContents as mc } from "@parley/proto";
import { decodeImmutableMetadata, decodeMembership, decodeMutableMetadata } from "./group-metadata.js";

const M = mc.MembershipPolicy_BasePolicy;
const D = mc.MetadataPolicy_MetadataBasePolicy;
const P = mc.PermissionsUpdatePolicy_PermissionsBasePolicy;

/** Keys starting with this and without a policy of their own need a super admin (SUPER_ADMIN_METADATA_PREFIX). */
const SUPER_ADMIN_PREFIX = "_";

/** Who is acting, with the roles the group gave them before the change. */
export interface Actor {
  readonly inboxId: string;
  readonly isAdmin: boolean;
  readonly isSuperAdmin: boolean;
}

type Kinded<B, C> = { kind: { case: "base"; value: B } | { case: "andCondition"; value: { policies: C[] } } | { case: "anyCondition"; value: { policies: C[] } } | { case: undefined; value?: undefined } };

/**
 * Evaluates a policy tree. A kind libxmtp would not decode (unspecified or
 * unknown base value, an empty and/any list, no kind) is a denial here, so
 * that a policy we do not understand never grants anything.
 */
function evaluate<B extends number, T extends Kinded<B, T>>(policy: T | undefined, base: (b: B) => boolean | undefined): boolean {
  const kind = policy?.kind;
  switch (kind?.case) {
    case "base":
      return base(kind.value) ?? false;
    case "andCondition":
      return kind.value.policies.length > 0 && kind.value.policies.every((p) => evaluate(p, base));
    case "anyCondition":
      return kind.value.policies.length > 0 && kind.value.policies.some((p) => evaluate(p, base));
    default:
      return false;
  }
}

const isAdminOrSuper = (a: Actor) => a.isAdmin || a.isSuperAdmin;

export function evaluateMembershipPolicy(policy: mc.MembershipPolicy | undefined, actor: Actor): boolean {
  return evaluate(policy, (b: mc.MembershipPolicy_BasePolicy) => {
    switch (b) {
      case M.ALLOW:
        return true;
      case M.DENY:
        return false;
      case M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN:
        return isAdminOrSuper(actor);
      case M.ALLOW_IF_SUPER_ADMIN:
        return actor.isSuperAdmin;
      default:
        return undefined;
    }
  });
}

export function evaluateMetadataPolicy(policy: mc.MetadataPolicy | undefined, actor: Actor): boolean {
  return evaluate(policy, (b: mc.MetadataPolicy_MetadataBasePolicy) => {
    switch (b) {
      case D.ALLOW:
        return true;
      case D.DENY:
        return false;
      case D.ALLOW_IF_ADMIN:
        return isAdminOrSuper(actor);
      case D.ALLOW_IF_SUPER_ADMIN:
        return actor.isSuperAdmin;
      default:
        return undefined;
    }
  });
}

export function evaluatePermissionsPolicy(policy: mc.PermissionsUpdatePolicy | undefined, actor: Actor): boolean {
  return evaluate(policy, (b: mc.PermissionsUpdatePolicy_PermissionsBasePolicy) => {
    switch (b) {
      case P.DENY:
        return false;
      case P.ALLOW_IF_ADMIN:
        return isAdminOrSuper(actor);
      case P.ALLOW_IF_SUPER_ADMIN:
        return actor.isSuperAdmin;
      default:
        return undefined;
    }
  });
}

/** The policy a metadata field is held to: its own, else admin (super admin for "_" keys). */
export function metadataPolicyFor(policies: mc.PolicySet | undefined, field: string): mc.MetadataPolicy {
  if (policies === undefined) return create(mc.MetadataPolicySchema, {});
  const own = policies.updateMetadataPolicy[field];
  if (own !== undefined) return own;
  const base = field.startsWith(SUPER_ADMIN_PREFIX) ? D.ALLOW_IF_SUPER_ADMIN : D.ALLOW_IF_ADMIN;
  return create(mc.MetadataPolicySchema, { kind: { case: "base", value: base } });
}

function wellFormed(policy: Kinded<number, unknown> | undefined, valid: readonly number[]): boolean {
  const kind = policy?.kind;
  switch (kind?.case) {
    case "base":
      return valid.includes(kind.value);
    case "andCondition":
    case "anyCondition":
      return kind.value.policies.length > 0 && kind.value.policies.every((p) => wellFormed(p as Kinded<number, unknown>, valid));
    default:
      return false;
  }
}

/**
 * Decodes the 0xFF02 payload and checks that every slot holds a policy
 * libxmtp would accept (PolicySet::from_proto).
 *
 * @returns the policy set, or undefined when the bytes or a policy are invalid.
 */
export function decodePolicySet(bytes: Uint8Array): mc.PolicySet | undefined {
  let policies: mc.PolicySet | undefined;
  try {
    policies = decode(mc.GroupMutablePermissionsV1Schema, bytes).policies;
  } catch {
    return undefined;
  }
  if (policies === undefined) return undefined;
  const membership = [M.ALLOW, M.DENY, M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN, M.ALLOW_IF_SUPER_ADMIN];
  const permissions = [P.DENY, P.ALLOW_IF_ADMIN, P.ALLOW_IF_SUPER_ADMIN];
  const metadata = [D.ALLOW, D.DENY, D.ALLOW_IF_ADMIN, D.ALLOW_IF_SUPER_ADMIN];
  const ok =
    wellFormed(policies.addMemberPolicy, membership) &&
    wellFormed(policies.removeMemberPolicy, membership) &&
    wellFormed(policies.addAdminPolicy, permissions) &&
    wellFormed(policies.removeAdminPolicy, permissions) &&
    wellFormed(policies.updatePermissionsPolicy, permissions) &&
    Object.values(policies.updateMetadataPolicy).every((p) => wellFormed(p, metadata));
  return ok ? policies : undefined;
}

export function actorOf(meta: mc.GroupMutableMetadataV1, inboxId: string): Actor {
  return {
    inboxId,
    isAdmin: meta.adminList?.inboxIds.includes(inboxId) ?? false,
    isSuperAdmin: meta.superAdminList?.inboxIds.includes(inboxId) ?? false,
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const minus = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x));

/**
 * The permission rules of section 3.5 rule 5 for a change of the group's
 * extensions made by `actorInboxId`.
 *
 * @returns undefined when the change is allowed, else the rule it breaks
 *   (no inbox ids, no values: it goes to logs).
 */
export function permissionViolation(before: XmtpGroupExtensions, after: XmtpGroupExtensions, actorInboxId: string): string | undefined {
  // Undecodable policies deny every change that needs one (every slot
  // reads as absent), but a commit that needs none (a key update, an
  // installation sync) still applies.
  const policies = decodePolicySet(before.permissions);
  const oldMeta = decodeMutableMetadata(before.mutableMetadata);
  const newMeta = decodeMutableMetadata(after.mutableMetadata);
  const actor = actorOf(oldMeta, actorInboxId);

  const oldMembers = decodeMembership(before.membership);
  const newMembers = decodeMembership(after.membership);
  const added = [...newMembers.keys()].filter((id) => !oldMembers.has(id));
  const removed = [...oldMembers.keys()].filter((id) => !newMembers.has(id));

  let addOk = added.every(() => evaluateMembershipPolicy(policies?.addMemberPolicy, actor));
  // Section 3.2: either DM member may (re)add the other, whatever the policy.
  const dm = decodeImmutableMetadata(before.immutableMetadata).dmMembers;
  if (dm !== undefined && added.length === 1) {
    const [id] = added;
    if ((id === dm.dmMemberOne?.inboxId || id === dm.dmMemberTwo?.inboxId) && id !== actorInboxId) addOk = true;
  }
  if (!addOk) return "add_member_policy";
  const oldSuper = oldMeta.superAdminList?.inboxIds ?? [];
  if (removed.some((id) => oldSuper.includes(id))) return "a super admin cannot be removed";
  if (!removed.every(() => evaluateMembershipPolicy(policies?.removeMemberPolicy, actor))) return "remove_member_policy";

  const keys = new Set([...Object.keys(oldMeta.attributes), ...Object.keys(newMeta.attributes)]);
  for (const key of keys) {
    if (oldMeta.attributes[key] === newMeta.attributes[key]) continue;
    if (!evaluateMetadataPolicy(metadataPolicyFor(policies, key), actor)) return `update_metadata_policy[${key}]`;
  }

  const oldAdmins = oldMeta.adminList?.inboxIds ?? [];
  const newAdmins = newMeta.adminList?.inboxIds ?? [];
  if (minus(newAdmins, oldAdmins).length > 0 && !evaluatePermissionsPolicy(policies?.addAdminPolicy, actor)) return "add_admin_policy";
  if (minus(oldAdmins, newAdmins).length > 0 && !evaluatePermissionsPolicy(policies?.removeAdminPolicy, actor)) return "remove_admin_policy";

  const newSuper = newMeta.superAdminList?.inboxIds ?? [];
  if (minus(newSuper, oldSuper).length > 0 && !actor.isSuperAdmin) return "only a super admin adds super admins";
  if (minus(oldSuper, newSuper).length > 0) {
    if (!actor.isSuperAdmin) return "only a super admin removes super admins";
    if (newSuper.length === 0) return "the last super admin cannot be removed";
  }

  if (!sameBytes(before.permissions, after.permissions)) {
    if (!actor.isSuperAdmin) return "only a super admin changes permissions";
    if (decodePolicySet(after.permissions) === undefined) return "the new permission policies do not decode";
  }
  return undefined;
}
