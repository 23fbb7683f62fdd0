// Inbox ids as an app hands them to the public API: plain strings, as in
// @xmtp/node-sdk. They are checked here once (any case accepted, as the
// official client compares them) and carried on as @parley/proto's
// branded InboxId, so that a mistyped id is the caller's error at once
// rather than a failed lookup on the node.
import { isInboxId, type InboxId } from "@parley/proto";
import { ClientError } from "../client-error.js";

/** @throws ClientError `client.usage` unless `value` is 64 hex digits. */
export function inboxIdInput(value: string): InboxId {
  const lower = typeof value === "string" ? value.toLowerCase() : "";
  if (!isInboxId(lower)) throw new ClientError("client.usage", "an inbox id is 64 hex digits");
  return lower;
}

/** @throws ClientError `client.usage` for any id that is not an inbox id. */
export function inboxIdsInput(values: readonly string[]): InboxId[] {
  return values.map(inboxIdInput);
}
