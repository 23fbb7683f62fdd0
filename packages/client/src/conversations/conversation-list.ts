// Listing conversations with the official SDK's options
// (../shared/spec/xmtp-client.md section 7, `ListConversationsOptions`):
// by type, by creation time, at most `limit`, and one DM per peer unless
// `includeDuplicateDms` (dm-stitching.ts says which one).
import { dmIdOf, surfacedDms, type DmActivity } from "./dm-stitching.js";
import type { Group } from "./group.js";

/** The official node bindings' numbering (not the protobuf enum's). */
export const ConversationType = { Dm: 0, Group: 1, Sync: 2, Oneshot: 3 } as const;
export type ConversationType = (typeof ConversationType)[keyof typeof ConversationType];

export interface ListConversationsOptions {
  readonly conversationType?: ConversationType;
  /** Created strictly after this time (ns). */
  readonly createdAfterNs?: bigint;
  /** Created strictly before this time (ns). */
  readonly createdBeforeNs?: bigint;
  readonly includeDuplicateDms?: boolean;
  readonly limit?: number;
}

export interface ConversationIndex {
  readonly ownInboxId: string;
  /** Every conversation, oldest first. */
  all(): Group[];
  /** The sent time of a conversation's newest stored message, 0 without one. */
  lastMessageNs(group: Group): bigint;
}

function typeOf(group: Group): ConversationType | undefined {
  const t = group.metadata().conversationType;
  return t === "dm" ? ConversationType.Dm : t === "group" ? ConversationType.Group : undefined;
}

/** Every DM with its dm_id and activity. */
export function dmActivities(index: ConversationIndex, groups: readonly Group[] = index.all()): DmActivity[] {
  return groups.flatMap((group) => {
    if (typeOf(group) !== ConversationType.Dm) return [];
    const peer = group.peerInboxId;
    if (peer === undefined) return [];
    return [{ group, dmId: dmIdOf(index.ownInboxId, peer), lastMessageNs: index.lastMessageNs(group) }];
  });
}

/** The other DMs stitched to `dm` (empty for a group). */
export function duplicatesOf(index: ConversationIndex, dm: Group): Group[] {
  const peer = dm.peerInboxId;
  if (peer === undefined) return [];
  const dmId = dmIdOf(index.ownInboxId, peer);
  return dmActivities(index)
    .filter((a) => a.dmId === dmId && a.group.id !== dm.id)
    .map((a) => a.group);
}

/** The DM that represents the conversation with `peerInboxId`, if there is one. */
export function surfacedDmWith(index: ConversationIndex, peerInboxId: string): Group | undefined {
  return surfacedDms(dmActivities(index)).get(dmIdOf(index.ownInboxId, peerInboxId));
}

export function listConversations(index: ConversationIndex, options: ListConversationsOptions = {}): Group[] {
  let groups = index.all().filter((g) => {
    const t = typeOf(g);
    if (t === undefined) return false;
    if (options.conversationType !== undefined && t !== options.conversationType) return false;
    if (options.createdAfterNs !== undefined && !(g.createdAtNs > options.createdAfterNs)) return false;
    if (options.createdBeforeNs !== undefined && !(g.createdAtNs < options.createdBeforeNs)) return false;
    return true;
  });
  if (options.includeDuplicateDms !== true) {
    const shown = new Set([...surfacedDms(dmActivities(index)).values()].map((g) => g.id));
    groups = groups.filter((g) => typeOf(g) !== ConversationType.Dm || shown.has(g.id));
  }
  return options.limit === undefined ? groups : groups.slice(0, options.limit);
}
