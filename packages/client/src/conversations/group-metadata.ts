// The payloads of XMTP's group context extensions as a new group carries
// them (../shared/spec/xmtp-client.md sections 1.4-1.5 and 3.6): immutable
// metadata, mutable metadata with the creator as the only super admin, the
// membership map with the creator at sequence id 0, and the default
// ("All members") policy set.
import { create } from "@bufbuild/protobuf";
import type { XmtpGroupExtensions } from "@parley/mls";
import { decode, encode, messageContents as mc } from "@parley/proto";
import { defaultPolicySet } from "./group-permissions.js";

export interface GroupMetadataOptions {
  readonly groupName?: string;
  readonly groupDescription?: string;
  readonly groupImageUrlSquare?: string;
}

const M = mc.MembershipPolicy_BasePolicy;
const D = mc.MetadataPolicy_MetadataBasePolicy;
const P = mc.PermissionsUpdatePolicy_PermissionsBasePolicy;

/** PolicySet::new_dm(): no member, admin or permission changes; every metadata field open. */
function dmPolicySet(): mc.PolicySet {
  const allow = create(mc.MetadataPolicySchema, { kind: { case: "base", value: D.ALLOW } });
  return create(mc.PolicySetSchema, {
    addMemberPolicy: { kind: { case: "base", value: M.DENY } },
    removeMemberPolicy: { kind: { case: "base", value: M.DENY } },
    updateMetadataPolicy: Object.fromEntries(METADATA_FIELDS.map((f) => [f, allow])),
    addAdminPolicy: { kind: { case: "base", value: P.DENY } },
    removeAdminPolicy: { kind: { case: "base", value: P.DENY } },
    updatePermissionsPolicy: { kind: { case: "base", value: P.DENY } },
  });
}

const METADATA_FIELDS = [
  "group_name",
  "description",
  "group_image_url_square",
  "app_data",
  "message_disappear_from_ns",
  "message_disappear_in_ns",
  "minimum_supported_protocol_version",
] as const;

export function encodeMembership(members: ReadonlyMap<string, bigint>, failedInstallations: readonly Uint8Array[] = []): Uint8Array {
  return encode(mc.GroupMembershipSchema, create(mc.GroupMembershipSchema, { members: Object.fromEntries(members), failedInstallations: [...failedInstallations] }));
}

export function decodeMembership(bytes: Uint8Array): Map<string, bigint> {
  return new Map(Object.entries(decode(mc.GroupMembershipSchema, bytes).members));
}

export function encodePermissions(policies: mc.PolicySet): Uint8Array {
  return encode(mc.GroupMutablePermissionsV1Schema, create(mc.GroupMutablePermissionsV1Schema, { policies }));
}

export function decodeMutableMetadata(bytes: Uint8Array): mc.GroupMutableMetadataV1 {
  return decode(mc.GroupMutableMetadataV1Schema, bytes);
}

export function encodeMutableMetadata(meta: mc.GroupMutableMetadataV1): Uint8Array {
  return encode(mc.GroupMutableMetadataV1Schema, meta);
}

/** The mutable-metadata attribute holding the group's signing secret (hex Ed25519 seed). */
export const COMMIT_LOG_SIGNER_KEY = "_commit_log_signer";

/** A new group's signing secret, as libxmtp makes one (spec 1.5: a random Ed25519 secret, hex). */
export function newCommitLogSigner(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}

/** Receivers refuse longer values (section 1.1), so senders do too. */
export const METADATA_LIMITS = { group_name: 100, description: 1000, group_image_url_square: 2048 } as const;

export function decodeImmutableMetadata(bytes: Uint8Array): mc.GroupMetadataV1 {
  return decode(mc.GroupMetadataV1Schema, bytes);
}

/**
 * A DM (section 3.2): conversation type DM with both members named in the
 * immutable metadata, empty admin lists, and the DM policy set.
 */
export function newDmExtensions(creatorInboxId: string, peerInboxId: string): XmtpGroupExtensions {
  return {
    immutableMetadata: encode(
      mc.GroupMetadataV1Schema,
      create(mc.GroupMetadataV1Schema, {
        conversationType: mc.ConversationType.DM,
        creatorAccountAddress: "",
        creatorInboxId,
        dmMembers: { dmMemberOne: { inboxId: creatorInboxId }, dmMemberTwo: { inboxId: peerInboxId } },
      }),
    ),
    mutableMetadata: encode(
      mc.GroupMutableMetadataV1Schema,
      create(mc.GroupMutableMetadataV1Schema, {
        attributes: { group_name: "", description: "", group_image_url_square: "", app_data: "", [COMMIT_LOG_SIGNER_KEY]: newCommitLogSigner() },
        adminList: { inboxIds: [] },
        superAdminList: { inboxIds: [] },
      }),
    ),
    membership: encodeMembership(new Map([[creatorInboxId, 0n]])),
    permissions: encode(mc.GroupMutablePermissionsV1Schema, create(mc.GroupMutablePermissionsV1Schema, { policies: dmPolicySet() })),
  };
}

export function newGroupExtensions(creatorInboxId: string, options: GroupMetadataOptions, policies: mc.PolicySet = defaultPolicySet()): XmtpGroupExtensions {
  return {
    immutableMetadata: encode(
      mc.GroupMetadataV1Schema,
      create(mc.GroupMetadataV1Schema, { conversationType: mc.ConversationType.GROUP, creatorAccountAddress: "", creatorInboxId }),
    ),
    mutableMetadata: encode(
      mc.GroupMutableMetadataV1Schema,
      create(mc.GroupMutableMetadataV1Schema, {
        attributes: {
          group_name: options.groupName ?? "",
          description: options.groupDescription ?? "",
          group_image_url_square: options.groupImageUrlSquare ?? "",
          app_data: "",
          // As libxmtp with ENABLE_COMMIT_LOG (spec 1.5): the secret that signs the group's commit log.
          [COMMIT_LOG_SIGNER_KEY]: newCommitLogSigner(),
        },
        adminList: { inboxIds: [] },
        superAdminList: { inboxIds: [creatorInboxId] },
      }),
    ),
    membership: encodeMembership(new Map([[creatorInboxId, 0n]])),
    permissions: encode(mc.GroupMutablePermissionsV1Schema, create(mc.GroupMutablePermissionsV1Schema, { policies })),
  };
}
