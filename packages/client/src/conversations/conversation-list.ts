// Listing conversations with the official SDK's options
// (../shared/spec/xmtp-client.md section 7, `ListConversationsOptions`):
// by type, by creation time, at most `limit`, and one DM per peer unless
// `includeDuplicateDms` (dm-stitching.ts says which one).
import { dmIdOf, surfacedDms, type DmActivity } from "./dm-stitching.js";
import { Dm } from "./dm.js";
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
  all(): (Group | Dm)[];
  /** The sent time of a conversation's newest stored message, 0 without one. */
  lastMessageNs(conversation: Group | Dm): bigint;
}

/** A group whose metadata says DM but that is not a sound one (dm-validation.ts) is neither: it is not listed. */
function typeOf(conversation: Group | Dm): ConversationType | undefined {
  const t = conversation.metadata().conversationType;
  if (t === "dm") return conversation instanceof Dm ? ConversationType.Dm : undefined;
  return t === "group" ? ConversationType.Group : undefined;
}

/** Every DM with its dm_id and activity. */
export function dmActivities(index: ConversationIndex, conversations: readonly (Group | Dm)[] = index.all()): DmActivity[] {
  return conversations.flatMap((dm) => {
    if (!(dm instanceof Dm)) return [];
    const peer = dm.peerInboxId;
    if (peer === "") return [];
    return [{ dm, dmId: dmIdOf(index.ownInboxId, peer), lastMessageNs: index.lastMessageNs(dm) }];
  });
}

/** The other DMs stitched to `dm`. */
export function duplicatesOf(index: ConversationIndex, dm: Dm): Dm[] {
  const peer = dm.peerInboxId;
  if (peer === "") return [];
  const dmId = dmIdOf(index.ownInboxId, peer);
  return dmActivities(index)
    .filter((a) => a.dmId === dmId && a.dm.id !== dm.id)
    .map((a) => a.dm);
}

/** The DM that represents the conversation with `peerInboxId`, if there is one. */
export function surfacedDmWith(index: ConversationIndex, peerInboxId: string): Dm | undefined {
  return surfacedDms(dmActivities(index)).get(dmIdOf(index.ownInboxId, peerInboxId));
}

export function listConversations(index: ConversationIndex, options: ListConversationsOptions = {}): (Group | Dm)[] {
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
