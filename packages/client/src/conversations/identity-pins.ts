// What a membership pin names (../shared/spec/xmtp-client.md sections 2.5,
// 3.3 to 3.5; libxmtp identity_updates.rs `get_association_state`): the
// 0xFF01 map pins each inbox to an identity sequence id, and a new pin must
// be the sequence id of an entry of that inbox's log, read as the state
// after exactly that entry. A pin is never read as "the latest so far": a
// pin past the log would then mean a different state to each member as the
// log grows (a fork), and, since pins only rise, a pin to 2^63 would keep
// the inbox's revoked installations in the group for good.
//
// Sequence ids are one global counter of the node, shared by all inboxes:
// rising per inbox, not contiguous (../shared/spec/xmtp-node-api.md,
// "Sequence ids"). So, for a pin P of an inbox whose log we hold:
//
// - P is an entry written by the node's clock no later than PIN_GRACE_NS
//   after the commit or welcome that names it: its state. An honest
//   committer read the entry before committing, so it is that old.
// - P is an entry written later than that, or a sequence id below the
//   log's last entry that is no entry of it, or 0 in a new pin (libxmtp:
//   0 is only the creator's placeholder, kept 0 -> 0): refused. Nothing the
//   node adds later can change that (it only appends, above the last entry).
// - P is past the log's last entry and that entry is older than the
//   envelope plus PIN_GRACE_NS: the node may not have it yet (a lagging or
//   withholding node), so the group waits before the envelope, as for a
//   network failure, until our clock passes the envelope's time plus
//   PIN_WAIT_NS; then it is refused. An entry that appears after that is
//   too late to count (first rule), so a member that waited and one that
//   comes later reach the same verdict, and a member can stall a group only
//   for PIN_WAIT_NS with a pin far in the future.
import type { AssociationState } from "@parley/identity";
import { ClientError } from "../client-error.js";
import type { InboxHistory } from "../identity/inbox-history.js";

/** How long after a commit's or welcome's node time the entry it pins may have been written (node clocks of one deployment). */
export const PIN_GRACE_NS = 60n * 1_000_000_000n;
/** How long, by our clock after the envelope's node time, a member waits for a pin past the log before refusing it. */
export const PIN_WAIT_NS = 10n * 60n * 1_000_000_000n;

/** When the envelope that names the pins was written (node time), and now (our clock). */
export interface PinTiming {
  readonly sentNs: bigint;
  readonly nowNs: bigint;
}

export type PinVerdict =
  | { readonly kind: "state"; readonly state: AssociationState }
  | { readonly kind: "refused"; readonly reason: string }
  /** Not in the log yet: take the envelope again later. */
  | { readonly kind: "pending" };

/** The verdict on a new pin `sequenceId` of an inbox with `history` (undefined: no log at all). */
export function resolvePin(history: InboxHistory | undefined, sequenceId: bigint, timing: PinTiming): PinVerdict {
  if (sequenceId === 0n) return { kind: "refused", reason: "a new sequence id of 0 names no entry" };
  const latest = timing.sentNs + PIN_GRACE_NS;
  const entry = history?.entry(sequenceId);
  if (entry !== undefined) {
    if (entry.serverTimestampNs > latest) return { kind: "refused", reason: "a sequence id names an entry written after the change" };
    return { kind: "state", state: entry.state };
  }
  const last = history?.last;
  if (last !== undefined && sequenceId < last.sequenceId) return { kind: "refused", reason: "a sequence id names no entry of its inbox's log" };
  if ((last !== undefined && last.serverTimestampNs > latest) || timing.nowNs > timing.sentNs + PIN_WAIT_NS) {
    return { kind: "refused", reason: "a sequence id past its inbox's log" };
  }
  return { kind: "pending" };
}

/**
 * The verdict on several new pins: the first refusal, else the first inbox
 * still pending, else undefined (every pin names its entry).
 */
export function pinsViolation(
  pins: Iterable<readonly [string, bigint]>,
  histories: ReadonlyMap<string, InboxHistory | undefined>,
  timing: PinTiming,
): { readonly refused: string } | { readonly pending: string } | undefined {
  let pending: string | undefined;
  for (const [inboxId, sequenceId] of pins) {
    const verdict = resolvePin(histories.get(inboxId), sequenceId, timing);
    if (verdict.kind === "refused") return { refused: verdict.reason };
    if (verdict.kind === "pending") pending ??= inboxId;
  }
  return pending === undefined ? undefined : { pending };
}

/**
 * The error that makes the caller stop before the envelope and take it
 * again at the next sync (incoming-failure.ts: a retry).
 */
export function pinPending(inboxId: string): ClientError {
  return new ClientError("client.identity_pending", `the identity log of inbox ${inboxId} does not reach its pinned sequence id yet`);
}
