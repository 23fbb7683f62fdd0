// The local transcript of a group's changes (../shared/spec/xmtp-client.md
// sections 2.5 item 7 and 4.3), built as libxmtp builds it so that both
// sides list the same entries with the same ids:
// - for every commit that applies (received or ours, once the node's order
//   confirms it), a GroupUpdated from the committer: inboxes added and
//   removed by the 0xFF01 map's diff, changed 0xFF00 attributes with old and
//   new values, admin and super-admin list changes. Its idempotency key and
//   sent time are the commit envelope's created_ns (libxmtp
//   `save_transcript_message`); a commit that changes none of these (a key
//   update) leaves no entry;
// - on joining from a welcome, {initiated_by = added_by, added = [me]} with
//   the key "{created_ns}_welcome_added" and the welcome's created_ns as sent
//   time (libxmtp `xmtp_welcome.rs`).
import { groupExtensions, type GroupState } from "@parley/mls";
import { encode, messageContents } from "@parley/proto";
import { contentTypeString, messageId } from "../content/text-codec.js";
import { emptyGroupUpdated, encodeGroupUpdated, type GroupUpdated, type MetadataFieldChange } from "../content/group-updated-codec.js";
import type { StoredMessage } from "../store/local-store.js";
import { decodeMembership, decodeMutableMetadata } from "./group-metadata.js";

/** Where a transcript entry sits: the envelope (commit or welcome) it comes from. */
export interface TranscriptSource {
  /** The conversation's local key (local-key.ts). */
  readonly localKey: Uint8Array;
  /** The node's created_ns of the envelope. */
  readonly createdNs: bigint;
  /** The node's id of the commit (for a welcome: the commit that added us, or 0). */
  readonly cursor: bigint;
}

const byInbox = (ids: Iterable<string>) => [...ids].map((inboxId) => ({ inboxId }));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function attributeChanges(before: Record<string, string>, after: Record<string, string>): MetadataFieldChange[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes: MetadataFieldChange[] = [];
  for (const fieldName of keys) {
    const oldValue = before[fieldName];
    const newValue = after[fieldName];
    if (oldValue === newValue) continue;
    changes.push({
      fieldName,
      ...(oldValue === undefined ? {} : { oldValue }),
      ...(newValue === undefined ? {} : { newValue }),
    });
  }
  return changes;
}

const added = (before: readonly string[], after: readonly string[]) => after.filter((id) => !before.includes(id));

/**
 * What a commit changed, as a GroupUpdated; undefined when it changed
 * nothing a member sees (libxmtp `ValidatedCommit::is_empty`).
 *
 * @param removedSelf our inbox id when the commit removed us: we never see
 *   its new extensions then, and record only our own removal.
 */
export function groupUpdatedOfCommit(
  before: GroupState,
  after: GroupState,
  committerInboxId: string,
  removedSelf?: string,
): GroupUpdated | undefined {
  if (removedSelf !== undefined) return { ...emptyGroupUpdated(committerInboxId), removedInboxes: [{ inboxId: removedSelf }] };
  const oldExt = groupExtensions(before);
  const newExt = groupExtensions(after);
  const oldMembers = decodeMembership(oldExt.membership);
  const newMembers = decodeMembership(newExt.membership);
  const update = {
    ...emptyGroupUpdated(committerInboxId),
    addedInboxes: byInbox([...newMembers.keys()].filter((id) => !oldMembers.has(id))),
    removedInboxes: byInbox([...oldMembers.keys()].filter((id) => !newMembers.has(id))),
  };
  let result: GroupUpdated = update;
  if (!sameBytes(oldExt.mutableMetadata, newExt.mutableMetadata)) {
    const oldMeta = decodeMutableMetadata(oldExt.mutableMetadata);
    const newMeta = decodeMutableMetadata(newExt.mutableMetadata);
    const oldAdmins = oldMeta.adminList?.inboxIds ?? [];
    const newAdmins = newMeta.adminList?.inboxIds ?? [];
    const oldSupers = oldMeta.superAdminList?.inboxIds ?? [];
    const newSupers = newMeta.superAdminList?.inboxIds ?? [];
    result = {
      ...update,
      metadataFieldChanges: attributeChanges(oldMeta.attributes, newMeta.attributes),
      addedAdminInboxes: byInbox(added(oldAdmins, newAdmins)),
      removedAdminInboxes: byInbox(added(newAdmins, oldAdmins)),
      addedSuperAdminInboxes: byInbox(added(oldSupers, newSupers)),
      removedSuperAdminInboxes: byInbox(added(newSupers, oldSupers)),
    };
  }
  return isEmptyUpdate(result) ? undefined : result;
}

export function isEmptyUpdate(u: GroupUpdated): boolean {
  return (
    u.addedInboxes.length === 0 &&
    u.removedInboxes.length === 0 &&
    u.leftInboxes.length === 0 &&
    u.metadataFieldChanges.length === 0 &&
    u.addedAdminInboxes.length === 0 &&
    u.removedAdminInboxes.length === 0 &&
    u.addedSuperAdminInboxes.length === 0 &&
    u.removedSuperAdminInboxes.length === 0
  );
}

/** The stored message of an update, id and sender as the official client chooses them. */
export function transcriptMessage(source: TranscriptSource, update: GroupUpdated, idempotencyKey: string): StoredMessage {
  const encoded = encodeGroupUpdated(update);
  const bytes = encode(messageContents.EncodedContentSchema, encoded);
  return {
    id: messageId(source.localKey, idempotencyKey, bytes),
    groupId: source.localKey.slice(),
    senderInboxId: update.initiatedByInboxId,
    sentAtNs: source.createdNs,
    contentType: contentTypeString(encoded.type),
    encodedContent: bytes,
    cursor: source.cursor,
  };
}

/**
 * The entry for a commit that applied; undefined when it changed nothing a
 * member sees.
 */
export function commitTranscript(
  source: TranscriptSource,
  before: GroupState,
  after: GroupState,
  committerInboxId: string,
  removedSelf?: string,
): StoredMessage | undefined {
  const update = groupUpdatedOfCommit(before, after, committerInboxId, removedSelf);
  return update === undefined ? undefined : transcriptMessage(source, update, source.createdNs.toString());
}

/** The "you were added" entry of a group joined from a welcome. */
export function welcomeTranscript(source: TranscriptSource, addedByInboxId: string, ownInboxId: string): StoredMessage {
  const update = { ...emptyGroupUpdated(addedByInboxId), addedInboxes: [{ inboxId: ownInboxId }] };
  return transcriptMessage(source, update, `${source.createdNs}_welcome_added`);
}
