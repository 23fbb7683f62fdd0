// Group updates (../shared/spec/xmtp-client.md section 4.3):
// xmtp.org/group_updated:1.0, a protobuf GroupUpdated that never travels on
// the wire: every member builds it from the commits it applies and from its
// own welcome. The encoding is the official client's exactly (no
// parameters, no fallback), because the message id hashes these bytes and
// both sides must arrive at the same id for the same commit.
import { create } from "@bufbuild/protobuf";
import { decode, encode, messageContents } from "@parley/proto";

export const ContentTypeGroupUpdated = { authorityId: "xmtp.org", typeId: "group_updated", versionMajor: 1, versionMinor: 0 } as const;

export interface GroupUpdatedInbox {
  readonly inboxId: string;
}

export interface MetadataFieldChange {
  readonly fieldName: string;
  /** Absent when the field did not exist before. */
  readonly oldValue?: string;
  /** Absent when the field was dropped. */
  readonly newValue?: string;
}

/** The official SDK's shape of a decoded GroupUpdated. */
export interface GroupUpdated {
  readonly initiatedByInboxId: string;
  readonly addedInboxes: readonly GroupUpdatedInbox[];
  readonly removedInboxes: readonly GroupUpdatedInbox[];
  readonly leftInboxes: readonly GroupUpdatedInbox[];
  readonly metadataFieldChanges: readonly MetadataFieldChange[];
  readonly addedAdminInboxes: readonly GroupUpdatedInbox[];
  readonly removedAdminInboxes: readonly GroupUpdatedInbox[];
  readonly addedSuperAdminInboxes: readonly GroupUpdatedInbox[];
  readonly removedSuperAdminInboxes: readonly GroupUpdatedInbox[];
}

/** An update with nothing in it but who made it; fill in the rest. */
export function emptyGroupUpdated(initiatedByInboxId: string): GroupUpdated {
  return {
    initiatedByInboxId,
    addedInboxes: [],
    removedInboxes: [],
    leftInboxes: [],
    metadataFieldChanges: [],
    addedAdminInboxes: [],
    removedAdminInboxes: [],
    addedSuperAdminInboxes: [],
    removedSuperAdminInboxes: [],
  };
}

const inboxes = (list: readonly GroupUpdatedInbox[]) => list.map((i) => ({ inboxId: i.inboxId }));

export function encodeGroupUpdated(update: GroupUpdated): messageContents.EncodedContent {
  const body = encode(
    messageContents.GroupUpdatedSchema,
    create(messageContents.GroupUpdatedSchema, {
      initiatedByInboxId: update.initiatedByInboxId,
      addedInboxes: inboxes(update.addedInboxes),
      removedInboxes: inboxes(update.removedInboxes),
      metadataFieldChanges: update.metadataFieldChanges.map((c) => ({
        fieldName: c.fieldName,
        ...(c.oldValue === undefined ? {} : { oldValue: c.oldValue }),
        ...(c.newValue === undefined ? {} : { newValue: c.newValue }),
      })),
      leftInboxes: inboxes(update.leftInboxes),
      addedAdminInboxes: inboxes(update.addedAdminInboxes),
      removedAdminInboxes: inboxes(update.removedAdminInboxes),
      addedSuperAdminInboxes: inboxes(update.addedSuperAdminInboxes),
      removedSuperAdminInboxes: inboxes(update.removedSuperAdminInboxes),
    }),
  );
  return create(messageContents.EncodedContentSchema, { type: ContentTypeGroupUpdated, parameters: {}, content: body });
}

export function isGroupUpdated(encoded: messageContents.EncodedContent): boolean {
  const t = encoded.type;
  return t?.authorityId === "xmtp.org" && t.typeId === "group_updated" && t.versionMajor === 1;
}

/** The update; undefined when not a group_updated or malformed (stored bytes are ours, but a decoder never throws on them). */
export function decodeGroupUpdated(encoded: messageContents.EncodedContent): GroupUpdated | undefined {
  if (!isGroupUpdated(encoded)) return undefined;
  let m: messageContents.GroupUpdated;
  try {
    m = decode(messageContents.GroupUpdatedSchema, encoded.content);
  } catch {
    return undefined;
  }
  return {
    initiatedByInboxId: m.initiatedByInboxId,
    addedInboxes: inboxes(m.addedInboxes),
    removedInboxes: inboxes(m.removedInboxes),
    leftInboxes: inboxes(m.leftInboxes),
    metadataFieldChanges: m.metadataFieldChanges.map((c) => ({
      fieldName: c.fieldName,
      ...(c.oldValue === undefined ? {} : { oldValue: c.oldValue }),
      ...(c.newValue === undefined ? {} : { newValue: c.newValue }),
    })),
    addedAdminInboxes: inboxes(m.addedAdminInboxes),
    removedAdminInboxes: inboxes(m.removedAdminInboxes),
    addedSuperAdminInboxes: inboxes(m.addedSuperAdminInboxes),
    removedSuperAdminInboxes: inboxes(m.removedSuperAdminInboxes),
  };
}

/** The official SDK's GroupMessageKind: group updates are membership changes, all else application messages. */
export const GroupMessageKind = { Application: 0, MembershipChange: 1 } as const;
export type GroupMessageKind = (typeof GroupMessageKind)[keyof typeof GroupMessageKind];

export const GROUP_UPDATED_TYPE = "xmtp.org/group_updated:1.0";

export function messageKindOf(contentType: string): GroupMessageKind {
  return contentType === GROUP_UPDATED_TYPE ? GroupMessageKind.MembershipChange : GroupMessageKind.Application;
}
