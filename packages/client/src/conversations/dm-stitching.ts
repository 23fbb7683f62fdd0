// Duplicate DMs (../shared/spec/xmtp-client.md section 3.2): two members
// can each create a DM with the other at the same time. libxmtp keeps every
// one of them and stitches them under one dm_id, "dm:" + the two inbox ids
// lowercased, sorted and joined by ":"; lists show one per dm_id (unless
// duplicates are asked for), the one with the newest message, ties broken
// by the larger group id (its `find_groups` NOT EXISTS filter); a DM's
// messages are those of all its duplicates.
import type { Dm } from "./dm.js";

export function dmIdOf(inboxA: string, inboxB: string): string {
  return `dm:${[inboxA.toLowerCase(), inboxB.toLowerCase()].sort().join(":")}`;
}

/** What ranks duplicates: the newest message's sent time (0 without one), then the group id. */
export interface DmActivity {
  readonly dm: Dm;
  readonly dmId: string;
  readonly lastMessageNs: bigint;
}

function newer(a: DmActivity, b: DmActivity): boolean {
  if (a.lastMessageNs !== b.lastMessageNs) return a.lastMessageNs > b.lastMessageNs;
  return Buffer.compare(Buffer.from(a.dm.localKeyBytes), Buffer.from(b.dm.localKeyBytes)) > 0;
}

/** The DM each dm_id shows: the most recently active of its duplicates. */
export function surfacedDms(dms: readonly DmActivity[]): Map<string, Dm> {
  const best = new Map<string, DmActivity>();
  for (const dm of dms) {
    const current = best.get(dm.dmId);
    if (current === undefined || newer(dm, current)) best.set(dm.dmId, dm);
  }
  return new Map([...best].map(([id, a]) => [id, a.dm]));
}
