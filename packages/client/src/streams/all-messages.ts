// New messages of every conversation, including those joined or created
// while the stream runs (the official `streamAllMessages`). The group
// subscription takes a fixed set of topics, so each new conversation
// restarts it with one more; one set of seen ids across restarts keeps
// every message pushed exactly once, and a catch-up from the store at each
// restart pushes what was synced while the subscription was being replaced.
import type { ApiClient } from "../api/api-client.js";
import { pushNewMessages, type FollowedConversation } from "./new-messages.js";
import { syncOrDefer } from "../incoming/incoming-failure.js";

/**
 * @param arrivals the next new conversation; undefined when no more will come.
 * @throws ClientError `client.network` when a subscription fails.
 */
export async function pushAllMessages<M extends { readonly id: string }>(
  api: ApiClient,
  initial: readonly FollowedConversation<M>[],
  arrivals: () => Promise<FollowedConversation<M> | undefined>,
  push: (message: M) => void,
  signal: AbortSignal,
): Promise<void> {
  const followed = [...initial];
  const seen = new Set<string>();
  for (const c of followed) for (const m of await c.messages()) seen.add(m.id);
  let arrival: Promise<FollowedConversation<M> | undefined> | undefined = arrivals();
  while (!signal.aborted) {
    for (const c of followed) {
      for (const m of await c.messages()) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        push(m);
      }
    }
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener("abort", stop, { once: true });
    const running =
      followed.length === 0
        ? new Promise<void>((resolve) => inner.signal.addEventListener("abort", () => resolve(), { once: true }))
        : pushNewMessages(api, followed, push, inner.signal, seen);
    try {
      const next = arrival === undefined ? undefined : await Promise.race([running.then(() => ({ ended: true as const })), arrival.then((c) => ({ c }))]);
      if (next === undefined || "ended" in next) {
        await running;
        return;
      }
      if (next.c === undefined) {
        arrival = undefined;
        await running;
        return;
      }
      inner.abort();
      await running;
      for (const m of await next.c.messages()) seen.add(m.id);
      // A sync to retry is taken again at the conversation's next wake-up.
      const joined = next.c;
      await syncOrDefer(() => joined.sync(), "group_message");
      followed.push(joined);
      arrival = arrivals();
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }
}
