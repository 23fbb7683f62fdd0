// The permission rules of section 3.5 rule 5 on extension payloads alone:
// each case is a change one actor makes, allowed or refused as libxmtp's
// evaluate_commit decides it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { XmtpGroupExtensions } from "@parley/mls";
import { messageContents as mc } from "@parley/proto";
import {
  decodeMutableMetadata,
  encodeMembership,
  encodeMutableMetadata,
  encodePermissions,
  newDmExtensions,
  newGroupExtensions,
} from "./group-metadata.js";
import {
  adminOnlyPolicySet,
  customPolicySet,
  defaultPolicySet,
  groupPermissionsOf,
  GroupPermissionsOptions,
  MetadataField,
  PermissionPolicy,
  PermissionUpdateType,
  policySetForOptions,
  withPermission,
} from "./group-permissions.js";
import { decodePolicySet, evaluateMembershipPolicy, evaluateMetadataPolicy, permissionViolation } from "./permissions.js";

const SUPER = "super";
const ADMIN = "admin";
const MEMBER = "member";
const OTHER = "other";

/** A group of SUPER (super admin), ADMIN (admin), MEMBER under `policies`. */
function group(policies: mc.PolicySet = defaultPolicySet()): XmtpGroupExtensions {
  const ext = newGroupExtensions(SUPER, { groupName: "g" }, policies);
  const meta = decodeMutableMetadata(ext.mutableMetadata);
  meta.adminList = create(mc.InboxesSchema, { inboxIds: [ADMIN] });
  return {
    ...ext,
    mutableMetadata: encodeMutableMetadata(meta),
    membership: encodeMembership(new Map([[SUPER, 1n], [ADMIN, 1n], [MEMBER, 1n]])),
  };
}

function withMeta(ext: XmtpGroupExtensions, edit: (m: mc.GroupMutableMetadataV1) => void): XmtpGroupExtensions {
  const meta = decodeMutableMetadata(ext.mutableMetadata);
  edit(meta);
  return { ...ext, mutableMetadata: encodeMutableMetadata(meta) };
}

function withMembers(ext: XmtpGroupExtensions, members: string[]): XmtpGroupExtensions {
  return { ...ext, membership: encodeMembership(new Map(members.map((m) => [m, 1n]))) };
}

const allowed = (before: XmtpGroupExtensions, after: XmtpGroupExtensions, actor: string) => permissionViolation(before, after, actor) === undefined;

describe("group permissions: the rules of section 3.5 rule 5", () => {
  it("evaluates base, and, any policies for each role; unknown kinds deny", () => {
    const M = mc.MembershipPolicy_BasePolicy;
    const base = (b: mc.MembershipPolicy_BasePolicy) => create(mc.MembershipPolicySchema, { kind: { case: "base", value: b } });
    const member = { inboxId: MEMBER, isAdmin: false, isSuperAdmin: false };
    const admin = { inboxId: ADMIN, isAdmin: true, isSuperAdmin: false };
    const superAdmin = { inboxId: SUPER, isAdmin: false, isSuperAdmin: true };
    const table: [mc.MembershipPolicy, boolean[]][] = [
      [base(M.ALLOW), [true, true, true]],
      [base(M.DENY), [false, false, false]],
      [base(M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN), [false, true, true]],
      [base(M.ALLOW_IF_SUPER_ADMIN), [false, false, true]],
      [base(M.UNSPECIFIED), [false, false, false]],
      [base(99 as mc.MembershipPolicy_BasePolicy), [false, false, false]],
      [create(mc.MembershipPolicySchema, { kind: { case: "andCondition", value: { policies: [base(M.ALLOW), base(M.ALLOW_IF_SUPER_ADMIN)] } } }), [false, false, true]],
      [create(mc.MembershipPolicySchema, { kind: { case: "anyCondition", value: { policies: [base(M.DENY), base(M.ALLOW_IF_ADMIN_OR_SUPER_ADMIN)] } } }), [false, true, true]],
      [create(mc.MembershipPolicySchema, { kind: { case: "anyCondition", value: { policies: [] } } }), [false, false, false]],
      [create(mc.MembershipPolicySchema, {}), [false, false, false]],
    ];
    for (const [policy, expected] of table) {
      assert.deepEqual([member, admin, superAdmin].map((a) => evaluateMembershipPolicy(policy, a)), expected, JSON.stringify(policy.kind));
    }
    const D = mc.MetadataPolicy_MetadataBasePolicy;
    const adminOnly = create(mc.MetadataPolicySchema, { kind: { case: "base", value: D.ALLOW_IF_ADMIN } });
    assert.deepEqual([member, admin, superAdmin].map((a) => evaluateMetadataPolicy(adminOnly, a)), [false, true, true]);
  });

  it("membership: the add and remove policies hold for the actor; a super admin is never removed", () => {
    const open = group();
    assert.ok(allowed(open, withMembers(open, [SUPER, ADMIN, MEMBER, OTHER]), MEMBER), "default: anyone adds");
    assert.ok(!allowed(open, withMembers(open, [SUPER, ADMIN]), MEMBER), "default: a member does not remove");
    assert.ok(allowed(open, withMembers(open, [SUPER, ADMIN]), ADMIN), "an admin removes");
    assert.equal(permissionViolation(open, withMembers(open, [ADMIN, MEMBER]), SUPER), "a super admin cannot be removed");
    const closed = group(adminOnlyPolicySet());
    assert.equal(permissionViolation(closed, withMembers(closed, [SUPER, ADMIN, MEMBER, OTHER]), MEMBER), "add_member_policy");
    assert.ok(allowed(closed, withMembers(closed, [SUPER, ADMIN, MEMBER, OTHER]), ADMIN));
  });

  it("metadata: each field's policy; a field without one needs an admin, or a super admin when it starts with _", () => {
    const closed = group(adminOnlyPolicySet());
    const renamed = withMeta(closed, (m) => (m.attributes["group_name"] = "new"));
    assert.equal(permissionViolation(closed, renamed, MEMBER), "update_metadata_policy[group_name]");
    assert.ok(allowed(closed, renamed, ADMIN));
    const open = group();
    assert.ok(allowed(open, withMeta(open, (m) => (m.attributes["group_name"] = "new")), MEMBER));
    const custom = withMeta(open, (m) => (m.attributes["custom_key"] = "x"));
    assert.ok(!allowed(open, custom, MEMBER));
    assert.ok(allowed(open, custom, ADMIN));
    const secret = withMeta(open, (m) => (m.attributes["_commit_log_signer"] = "x"));
    assert.ok(!allowed(open, secret, ADMIN));
    assert.ok(allowed(open, secret, SUPER));
    assert.ok(allowed(open, withMeta(open, (m) => delete m.attributes["description"]), MEMBER), "removing an open field is allowed");
  });

  it("admin lists: add/remove admin policies; super admins by super admins only, never the last", () => {
    const open = group();
    const promoted = withMeta(open, (m) => m.adminList!.inboxIds.push(MEMBER));
    assert.equal(permissionViolation(open, promoted, ADMIN), "add_admin_policy");
    assert.ok(allowed(open, promoted, SUPER));
    const demoted = withMeta(open, (m) => (m.adminList!.inboxIds = []));
    assert.equal(permissionViolation(open, demoted, MEMBER), "remove_admin_policy");
    assert.ok(allowed(open, demoted, SUPER));
    const adminsMayAdd = group(withPermission(defaultPolicySet(), PermissionUpdateType.AddAdmin, PermissionPolicy.Admin));
    assert.ok(allowed(adminsMayAdd, withMeta(adminsMayAdd, (m) => m.adminList!.inboxIds.push(MEMBER)), ADMIN));

    const twoSupers = withMeta(open, (m) => m.superAdminList!.inboxIds.push(ADMIN));
    assert.equal(permissionViolation(open, twoSupers, ADMIN), "only a super admin adds super admins");
    assert.ok(allowed(open, twoSupers, SUPER));
    const oneLeft = withMeta(twoSupers, (m) => (m.superAdminList!.inboxIds = [ADMIN]));
    assert.ok(allowed(twoSupers, oneLeft, SUPER), "a super admin steps down while another remains");
    assert.equal(permissionViolation(open, withMeta(open, (m) => (m.superAdminList!.inboxIds = [])), SUPER), "the last super admin cannot be removed");
  });

  it("permissions: any change of 0xFF02 needs a super admin, and the new set must decode", () => {
    const open = group();
    const closed = { ...open, permissions: encodePermissions(adminOnlyPolicySet()) };
    assert.equal(permissionViolation(open, closed, ADMIN), "only a super admin changes permissions");
    assert.ok(allowed(open, closed, SUPER));
    const broken = { ...open, permissions: encodePermissions(create(mc.PolicySetSchema, {})) };
    assert.equal(permissionViolation(open, broken, SUPER), "the new permission policies do not decode");
    assert.equal(decodePolicySet(new Uint8Array([0xff, 0xff])), undefined);
    // A group whose own policies do not decode: changes that need a policy
    // are denied, even to a super admin; a commit that changes nothing
    // governed (a key update) still passes.
    const undecodable = { ...open, permissions: encodePermissions(create(mc.PolicySetSchema, {})) };
    assert.equal(permissionViolation(undecodable, withMeta(undecodable, (m) => (m.attributes["group_name"] = "x")), SUPER), "update_metadata_policy[group_name]");
    assert.equal(permissionViolation(undecodable, withMembers(undecodable, [SUPER, ADMIN, MEMBER, OTHER]), SUPER), "add_member_policy");
    assert.equal(permissionViolation(undecodable, undecodable, MEMBER), undefined);
  });

  it("DMs: either member may add the other, though the add policy denies; nobody else", () => {
    const dm = newDmExtensions("alice", "bob");
    const withBob = { ...dm, membership: encodeMembership(new Map([["alice", 1n], ["bob", 1n]])) };
    assert.ok(allowed(dm, withBob, "alice"));
    const withCarol = { ...dm, membership: encodeMembership(new Map([["alice", 1n], ["carol", 1n]])) };
    assert.equal(permissionViolation(dm, withCarol, "alice"), "add_member_policy");
    const bobOnly = { ...dm, membership: encodeMembership(new Map([["bob", 1n]])) };
    assert.equal(permissionViolation(bobOnly, withBob, "alice"), "add_member_policy", "not the actor's own inbox");
  });

  it("the SDK's view: presets recognised, custom sets built and read back, one slot updated", () => {
    assert.equal(groupPermissionsOf(defaultPolicySet()).policyType, GroupPermissionsOptions.Default);
    assert.equal(groupPermissionsOf(adminOnlyPolicySet()).policyType, GroupPermissionsOptions.AdminOnly);
    assert.equal(groupPermissionsOf(policySetForOptions({ permissions: GroupPermissionsOptions.AdminOnly })).policyType, GroupPermissionsOptions.AdminOnly);
    const flat = {
      addMemberPolicy: PermissionPolicy.SuperAdmin,
      removeMemberPolicy: PermissionPolicy.Deny,
      addAdminPolicy: PermissionPolicy.Admin,
      removeAdminPolicy: PermissionPolicy.SuperAdmin,
      updateGroupNamePolicy: PermissionPolicy.Deny,
      updateGroupDescriptionPolicy: PermissionPolicy.Allow,
      updateGroupImageUrlSquarePolicy: PermissionPolicy.Admin,
      updateMessageDisappearingPolicy: PermissionPolicy.SuperAdmin,
      updateAppDataPolicy: PermissionPolicy.Allow,
    };
    const custom = groupPermissionsOf(customPolicySet(flat));
    assert.equal(custom.policyType, GroupPermissionsOptions.CustomPolicy);
    assert.deepEqual(custom.policySet, flat);
    const renamedByAdmins = withPermission(defaultPolicySet(), PermissionUpdateType.UpdateMetadata, PermissionPolicy.Admin, MetadataField.GroupName);
    const view = groupPermissionsOf(renamedByAdmins);
    assert.equal(view.policyType, GroupPermissionsOptions.CustomPolicy);
    assert.equal(view.policySet.updateGroupNamePolicy, PermissionPolicy.Admin);
    assert.equal(view.policySet.updateGroupDescriptionPolicy, PermissionPolicy.Allow);
    assert.throws(() => withPermission(defaultPolicySet(), PermissionUpdateType.AddAdmin, PermissionPolicy.Allow), { code: "client.usage" });
    assert.throws(() => withPermission(defaultPolicySet(), PermissionUpdateType.UpdateMetadata, PermissionPolicy.Allow), { code: "client.usage" });
    assert.throws(() => policySetForOptions({ permissions: GroupPermissionsOptions.CustomPolicy }), { code: "client.usage" });
  });
});
