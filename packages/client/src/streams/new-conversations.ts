// New conversations as they arrive (the official
// `conversations.stream()`): the node's welcome subscription for our
// installation is only a wake-up; each welcome triggers an ordered welcome
// sync (which validates and joins), and every conversation that was not
// there before is pushed once. Conversations we create ourselves are pushed
// too, as libxmtp's stream announces local creations.
import { nodeFailure, type ApiClient } from "../api/api-client.js";
import { syncOrDefer } from "../incoming/incoming-failure.js";

export interface ConversationSource<C extends { readonly id: string }> {
  readonly installationKey: Uint8Array;
  /** The welcome cursor the installation has processed up to. */
  welcomeCursor(): bigint;
  /** Processes new welcomes. */
  sync(): Promise<unknown>;
  /** Every conversation now known, including duplicate DMs. */
  list(): C[];
  /** Calls `listener` after we create a conversation; returns the unsubscribe. */
  onCreated(listener: () => void): () => void;
}

/**
 * @param accept which new conversations to push (type filters).
 * @throws ClientError `client.network` when the subscription fails (not when `signal` ended it).
 */
export async function pushNewConversations<T extends { readonly id: string }, C extends T>(
  api: ApiClient,
  source: ConversationSource<T>,
  accept: (conversation: T) => conversation is C,
  push: (conversation: C) => void,
  signal: AbortSignal,
): Promise<void> {
  const known = new Set(source.list().map((c) => c.id));
  const pushNew = () => {
    if (signal.aborted) return;
    for (const c of source.list()) {
      if (known.has(c.id)) continue;
      known.add(c.id);
      if (accept(c)) push(c);
    }
  };
  const unsubscribe = source.onCreated(pushNew);
  const filters = [{ installationKey: source.installationKey, idCursor: source.welcomeCursor() }];
  try {
    for await (const welcome of api.mls.subscribeWelcomeMessages({ filters }, { signal })) {
      if (welcome.version.case === undefined) continue;
      // A sync that must be retried leaves the welcome to the next wake-up.
      if (await syncOrDefer(() => source.sync(), "welcome")) pushNew();
    }
  } catch (error) {
    if (signal.aborted) return;
    throw nodeFailure("SubscribeWelcomeMessages", error);
  } finally {
    unsubscribe();
  }
}
