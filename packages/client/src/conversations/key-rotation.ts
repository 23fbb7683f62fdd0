// When our leaf's keys are due for rotation (../shared/spec/xmtp-client.md
// 3.8, "Key update"): an installation that has not committed in a group for
// libxmtp's GROUP_KEY_ROTATION_INTERVAL_NS, or never (it just joined),
// commits an update path before its next send. Every commit of ours carries
// a path, so any of them resets the clock.
import type { ClientContext } from "../client-context.js";

/** libxmtp GROUP_KEY_ROTATION_INTERVAL_NS: 30 days. */
export const GROUP_KEY_ROTATION_INTERVAL_NS = 30n * 24n * 3600n * 1_000_000_000n;

export function keyUpdateDue(ctx: ClientContext, groupId: Uint8Array): boolean {
  const last = ctx.store.lastOwnCommitNs(groupId);
  return last === undefined || ctx.nowNs() - last >= GROUP_KEY_ROTATION_INTERVAL_NS;
}
