// Group permissions as @xmtp/node-sdk shows them (../shared/spec/xmtp-client.md
// sections 3.6 and 7): the preset policy sets (Default, AdminOnly), a custom
// set from the SDK's flat PermissionPolicySet, the flat view of a group's
// PolicySet, and one-slot permission updates. The numeric values are the
// node bindings' enums, so code written for the official SDK keeps working.
import { create } from "@bufbuild/protobuf";
import { messageContents as mc } from "@parley/proto";
import { ClientError } from "../client-error.js";

export const PermissionPolicy = { Allow: 0, Deny: 1, Admin: 2, SuperAdmin: 3, DoesNotExist: 4, Other: 5 } as const;
export type PermissionPolicy = (typeof PermissionPolicy)[keyof typeof PermissionPolicy];

export const PermissionUpdateType = { AddMember: 0, RemoveMember: 1, AddAdmin: 2, RemoveAdmin: 3, UpdateMetadata: 4 } as const;
export type PermissionUpdateType = (typeof PermissionUpdateType)[keyof typeof PermissionUpdateType];

export const MetadataField = {
  AppData: 0,
  Description: 1,
  GroupName: 2,
  GroupImageUrlSquare: 3,
  MessageExpirationFromNs: 4,
  MessageExpirationInNs: 5,
} as const;
export type MetadataField = (typeof MetadataField)[keyof typeof MetadataField];

export const GroupPermissionsOptions = { Default: 0, AdminOnly: 1, CustomPolicy: 2 } as const;
export type GroupPermissionsOptions = (typeof GroupPermissionsOptions)[keyof typeof GroupPermissionsOptions];

export interface PermissionPolicySet {
  readonly addMemberPolicy: PermissionPolicy;
  readonly removeMemberPolicy: PermissionPolicy;
  readonly addAdminPolicy: PermissionPolicy;
  readonly removeAdminPolicy: PermissionPolicy;
  readonly updateGroupNamePolicy: PermissionPolicy;
  readonly updateGroupDescriptionPolicy: PermissionPolicy;
  readonly updateGroupImageUrlSquarePolicy: PermissionPolicy;
  readonly updateMessageDisappearingPolicy: PermissionPolicy;
  readonly updateAppDataPolicy: PermissionPolicy;
}

export interface GroupPermissions {
  readonly policyType: GroupPermissionsOptions;
  readonly policySet: PermissionPolicySet;
}

const M = mc.MembershipPolicy_BasePolicy;
const D = mc.MetadataPolicy_MetadataBasePolicy;
const P = mc.PermissionsUpdatePolicy_PermissionsBasePolicy;

const FIELD_KEYS: Record<MetadataField, string> = {
  [MetadataField.AppData]: "app_data",
  [MetadataField.Description]: "description",
  [MetadataField.GroupName]: "group_name",
  [MetadataField.GroupImageUrlSquare]: "group_image_url_square",
  [MetadataField.MessageExpirationFromNs]: "message_disappear_from_ns",
  [MetadataField.MessageExpirationInNs]: "message_disappear_in_ns",
};
const DISAPPEARING = ["message_disappear_from_ns", "message_disappear_in_ns"];
const MIN_VERSION = "minimum_supported_protocol_version";

const membership = (b: mc.MembershipPolicy_BasePolicy) => create(mc.MembershipPolicySchema, { kind: { case: "base", value: b } });
const metadata = (b: mc.MetadataPolicy_MetadataBasePolicy) => create(mc.MetadataPolicySchema, { kind: { case: "base", value: b } });
const permissions = (b: mc.PermissionsUpdatePolicy_PermissionsBasePolicy) =>
  create(mc.PermissionsUpdatePolicySchema, { kind: { case: "base", value: b } });

function usage(message: string): ClientError {
  return new ClientError("client.usage", message);
}

function membershipOf(p: PermissionPolicy): mc.MembershipPolicy {
  switch (p) {
    case PermissionPolicy.Allow:
      return membership(M.ALLOW);
    case PermissionPolicy.Deny:
      return membership(M.DENY);
    case PermissionPolicy.Admin:
      return membership(M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN);
    case PermissionPolicy.SuperAdmin:
      return membership(M.ALLOW_IF_SUPER_ADMIN);
    default:
      throw usage(`policy ${p} cannot be set`);
  }
}

function metadataOf(p: PermissionPolicy): mc.MetadataPolicy {
  switch (p) {
    case PermissionPolicy.Allow:
      return metadata(D.ALLOW);
    case PermissionPolicy.Deny:
      return metadata(D.DENY);
    case PermissionPolicy.Admin:
      return metadata(D.ALLOW_IF_ADMIN);
    case PermissionPolicy.SuperAdmin:
      return metadata(D.ALLOW_IF_SUPER_ADMIN);
    default:
      throw usage(`policy ${p} cannot be set`);
  }
}

/** Admin-list policies have no "allow everyone" (PermissionsBasePolicy). */
function permissionsOf(p: PermissionPolicy): mc.PermissionsUpdatePolicy {
  switch (p) {
    case PermissionPolicy.Deny:
      return permissions(P.DENY);
    case PermissionPolicy.Admin:
      return permissions(P.ALLOW_IF_ADMIN);
    case PermissionPolicy.SuperAdmin:
      return permissions(P.ALLOW_IF_SUPER_ADMIN);
    default:
      throw usage(`policy ${p} cannot be set for an admin list`);
  }
}

function metadataMap(open: mc.MetadataPolicy_MetadataBasePolicy): Record<string, mc.MetadataPolicy> {
  return {
    group_name: metadata(open),
    description: metadata(open),
    group_image_url_square: metadata(open),
    app_data: metadata(open),
    message_disappear_from_ns: metadata(D.ALLOW_IF_ADMIN),
    message_disappear_in_ns: metadata(D.ALLOW_IF_ADMIN),
    [MIN_VERSION]: metadata(D.ALLOW_IF_SUPER_ADMIN),
  };
}

/** The "All members" preset (section 3.6). */
export function defaultPolicySet(): mc.PolicySet {
  return create(mc.PolicySetSchema, {
    addMemberPolicy: membership(M.ALLOW),
    removeMemberPolicy: membership(M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN),
    updateMetadataPolicy: metadataMap(D.ALLOW),
    addAdminPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
    removeAdminPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
    updatePermissionsPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
  });
}

/** The "AdminsOnly" preset (section 3.6). */
export function adminOnlyPolicySet(): mc.PolicySet {
  return create(mc.PolicySetSchema, {
    addMemberPolicy: membership(M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN),
    removeMemberPolicy: membership(M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN),
    updateMetadataPolicy: metadataMap(D.ALLOW_IF_ADMIN),
    addAdminPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
    removeAdminPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
    updatePermissionsPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
  });
}

/**
 * A PolicySet from the SDK's flat set: the disappearing-message policy
 * covers both of its fields, the protocol version stays super admin only,
 * and permission updates stay super admin only.
 *
 * @throws ClientError `client.usage` for a policy a slot cannot hold.
 */
export function customPolicySet(flat: PermissionPolicySet): mc.PolicySet {
  return create(mc.PolicySetSchema, {
    addMemberPolicy: membershipOf(flat.addMemberPolicy),
    removeMemberPolicy: membershipOf(flat.removeMemberPolicy),
    updateMetadataPolicy: {
      group_name: metadataOf(flat.updateGroupNamePolicy),
      description: metadataOf(flat.updateGroupDescriptionPolicy),
      group_image_url_square: metadataOf(flat.updateGroupImageUrlSquarePolicy),
      app_data: metadataOf(flat.updateAppDataPolicy),
      message_disappear_from_ns: metadataOf(flat.updateMessageDisappearingPolicy),
      message_disappear_in_ns: metadataOf(flat.updateMessageDisappearingPolicy),
      [MIN_VERSION]: metadata(D.ALLOW_IF_SUPER_ADMIN),
    },
    addAdminPolicy: permissionsOf(flat.addAdminPolicy),
    removeAdminPolicy: permissionsOf(flat.removeAdminPolicy),
    updatePermissionsPolicy: permissions(P.ALLOW_IF_SUPER_ADMIN),
  });
}

/**
 * The policy set createGroup's options ask for.
 *
 * @throws ClientError `client.usage` for CustomPolicy without a set, or a set with one without CustomPolicy.
 */
export function policySetForOptions(options: { permissions?: GroupPermissionsOptions; customPermissionPolicySet?: PermissionPolicySet }): mc.PolicySet {
  const kind = options.permissions ?? GroupPermissionsOptions.Default;
  if (options.customPermissionPolicySet !== undefined && kind !== GroupPermissionsOptions.CustomPolicy) {
    throw usage("customPermissionPolicySet needs permissions: CustomPolicy");
  }
  switch (kind) {
    case GroupPermissionsOptions.Default:
      return defaultPolicySet();
    case GroupPermissionsOptions.AdminOnly:
      return adminOnlyPolicySet();
    case GroupPermissionsOptions.CustomPolicy:
      if (options.customPermissionPolicySet === undefined) throw usage("CustomPolicy needs customPermissionPolicySet");
      return customPolicySet(options.customPermissionPolicySet);
    default:
      throw usage(`unknown permissions option ${String(kind)}`);
  }
}

type AnyPolicy = { kind: { case: "base"; value: number } | { case: "andCondition" | "anyCondition"; value: unknown } | { case: undefined; value?: undefined } };

function flatOf(policy: AnyPolicy | undefined, table: Partial<Record<number, PermissionPolicy>>): PermissionPolicy {
  if (policy === undefined) return PermissionPolicy.DoesNotExist;
  if (policy.kind.case !== "base") return PermissionPolicy.Other;
  return table[policy.kind.value] ?? PermissionPolicy.Other;
}

const MEMBERSHIP_FLAT = { [M.ALLOW]: PermissionPolicy.Allow, [M.DENY]: PermissionPolicy.Deny, [M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN]: PermissionPolicy.Admin, [M.ALLOW_IF_SUPER_ADMIN]: PermissionPolicy.SuperAdmin };
const METADATA_FLAT = { [D.ALLOW]: PermissionPolicy.Allow, [D.DENY]: PermissionPolicy.Deny, [D.ALLOW_IF_ADMIN]: PermissionPolicy.Admin, [D.ALLOW_IF_SUPER_ADMIN]: PermissionPolicy.SuperAdmin };
const PERMISSIONS_FLAT = { [P.DENY]: PermissionPolicy.Deny, [P.ALLOW_IF_ADMIN]: PermissionPolicy.Admin, [P.ALLOW_IF_SUPER_ADMIN]: PermissionPolicy.SuperAdmin };

function flatPolicySet(ps: mc.PolicySet): PermissionPolicySet {
  const meta = (key: string) => flatOf(ps.updateMetadataPolicy[key], METADATA_FLAT);
  return {
    addMemberPolicy: flatOf(ps.addMemberPolicy, MEMBERSHIP_FLAT),
    removeMemberPolicy: flatOf(ps.removeMemberPolicy, MEMBERSHIP_FLAT),
    addAdminPolicy: flatOf(ps.addAdminPolicy, PERMISSIONS_FLAT),
    removeAdminPolicy: flatOf(ps.removeAdminPolicy, PERMISSIONS_FLAT),
    updateGroupNamePolicy: meta("group_name"),
    updateGroupDescriptionPolicy: meta("description"),
    updateGroupImageUrlSquarePolicy: meta("group_image_url_square"),
    updateMessageDisappearingPolicy: meta("message_disappear_in_ns"),
    updateAppDataPolicy: meta("app_data"),
  };
}

const baseIs = (p: AnyPolicy | undefined, value: number) => p?.kind.case === "base" && p.kind.value === value;

/**
 * Which preset a set matches, as libxmtp's is_policy_default /
 * is_policy_admin_only judge it: the member and admin slots exactly, and
 * every metadata key present at the preset's level (older groups may lack
 * some keys).
 */
function presetOf(ps: mc.PolicySet): GroupPermissionsOptions {
  const common =
    baseIs(ps.removeMemberPolicy, M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN) &&
    baseIs(ps.addAdminPolicy, P.ALLOW_IF_SUPER_ADMIN) &&
    baseIs(ps.removeAdminPolicy, P.ALLOW_IF_SUPER_ADMIN) &&
    baseIs(ps.updatePermissionsPolicy, P.ALLOW_IF_SUPER_ADMIN);
  if (!common) return GroupPermissionsOptions.CustomPolicy;
  const metadataAt = (open: number) =>
    Object.entries(ps.updateMetadataPolicy).every(([key, p]) => {
      if (key === MIN_VERSION) return baseIs(p, D.ALLOW_IF_SUPER_ADMIN);
      if (DISAPPEARING.includes(key)) return baseIs(p, D.ALLOW_IF_ADMIN);
      return baseIs(p, open);
    });
  if (baseIs(ps.addMemberPolicy, M.ALLOW) && metadataAt(D.ALLOW)) return GroupPermissionsOptions.Default;
  if (baseIs(ps.addMemberPolicy, M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN) && metadataAt(D.ALLOW_IF_ADMIN)) return GroupPermissionsOptions.AdminOnly;
  return GroupPermissionsOptions.CustomPolicy;
}

export function groupPermissionsOf(ps: mc.PolicySet): GroupPermissions {
  return { policyType: presetOf(ps), policySet: flatPolicySet(ps) };
}

/**
 * A copy of `ps` with one slot changed (section 3.7: a permission update
 * changes one policy slot).
 *
 * @throws ClientError `client.usage` for a policy the slot cannot hold, or
 *   UpdateMetadata without a field.
 */
export function withPermission(ps: mc.PolicySet, type: PermissionUpdateType, policy: PermissionPolicy, field?: MetadataField): mc.PolicySet {
  const next = create(mc.PolicySetSchema, { ...ps, updateMetadataPolicy: { ...ps.updateMetadataPolicy } });
  switch (type) {
    case PermissionUpdateType.AddMember:
      next.addMemberPolicy = membershipOf(policy);
      break;
    case PermissionUpdateType.RemoveMember:
      next.removeMemberPolicy = membershipOf(policy);
      break;
    case PermissionUpdateType.AddAdmin:
      next.addAdminPolicy = permissionsOf(policy);
      break;
    case PermissionUpdateType.RemoveAdmin:
      next.removeAdminPolicy = permissionsOf(policy);
      break;
    case PermissionUpdateType.UpdateMetadata: {
      const key = field === undefined ? undefined : FIELD_KEYS[field];
      if (key === undefined) throw usage("UpdateMetadata needs a metadata field");
      next.updateMetadataPolicy[key] = metadataOf(policy);
      break;
    }
    default:
      throw usage(`unknown permission update type ${String(type)}`);
  }
  return next;
}
