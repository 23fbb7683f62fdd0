// New messages of some conversations as they arrive: the node's group
// subscription is only a wake-up; each envelope triggers an ordered sync of
// its conversation (commits apply in id order as always), and each message is
// pushed once. Shared by Group.stream() and Conversations.streamAllMessages().
import { nodeFailure, type ApiClient } from "../api/api-client.js";
import { syncOrDefer } from "../incoming/incoming-failure.js";

export interface FollowedConversation<M extends { readonly id: string }> {
  readonly groupIdBytes: Uint8Array;
  /** The node cursor the conversation has processed up to. */
  readonly cursor: bigint;
  sync(): Promise<unknown>;
  messages(): Promise<M[]>;
}

/**
 * @throws ClientError `client.network` when the subscription fails (not when
 *   `signal` ended it).
 */
export async function pushNewMessages<M extends { readonly id: string }>(
  api: ApiClient,
  conversations: readonly FollowedConversation<M>[],
  push: (message: M) => void,
  signal: AbortSignal,
  /** Ids already pushed or not to push; by default every message stored at the start. */
  seenBefore?: Set<string>,
): Promise<void> {
  if (conversations.length === 0) return;
  // Several conversations can share a group id (conversations/local-key.ts):
  // an envelope on the id wakes each of them, and each keeps what opens under its state.
  const byGroup = new Map<string, FollowedConversation<M>[]>();
  for (const c of conversations) {
    const key = Buffer.from(c.groupIdBytes).toString("hex");
    byGroup.set(key, [...(byGroup.get(key) ?? []), c]);
  }
  let seen = seenBefore;
  if (seen === undefined) {
    seen = new Set<string>();
    for (const c of conversations) for (const m of await c.messages()) seen.add(m.id);
  }
  // One filter per topic, from the cursor of the conversation furthest behind on it.
  const topics = new Map<string, { groupId: Uint8Array; idCursor: bigint }>();
  for (const c of conversations) {
    const key = Buffer.from(c.groupIdBytes).toString("hex");
    const topic = topics.get(key);
    if (topic === undefined) topics.set(key, { groupId: c.groupIdBytes, idCursor: c.cursor });
    else if (c.cursor < topic.idCursor) topic.idCursor = c.cursor;
  }
  const filters = [...topics.values()];
  try {
    for await (const envelope of api.mls.subscribeGroupMessages({ filters }, { signal })) {
      if (envelope.version.case !== "v1") continue;
      for (const conversation of byGroup.get(Buffer.from(envelope.version.value.groupId).toString("hex")) ?? []) {
        // A sync that must be retried leaves the envelope to the next wake-up.
        if (!(await syncOrDefer(() => conversation.sync(), "group_message"))) continue;
        for (const m of await conversation.messages()) {
          if (seen.has(m.id)) continue;
          seen.add(m.id);
          push(m);
        }
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw nodeFailure("SubscribeGroupMessages", error);
  }
}
