// The membership rules of a group (../shared/spec/xmtp-client.md sections
// 2.5, 3.3 step 2, 3.5 rules 2 to 4; libxmtp validated_commit.rs): the
// installations a change of the 0xFF01 map implies, computed from each
// inbox's association state between its old and new sequence ids, and the
// checks a receiver applies so that it accepts exactly the commits and
// welcomes libxmtp accepts (a difference forks the group).
//
// Sequence id 0 is special, as in libxmtp: as the OLD pin of an inbox it
// means "nothing yet" (the creator's own entry before its first commit), so
// every installation of the new state counts as added; kept 0 -> 0 it means
// the latest state. Any other new pin must name an entry of the inbox's log
// (identity-pins.ts): it is judged before these rules run.
import { groupExtensions, groupMembers, MAX_GROUP_INBOXES, type GroupState } from "@parley/mls";
import { decode, messageContents as mc } from "@parley/proto";
import { hasInstallation, installationsOf, type InboxHistory } from "../identity/inbox-history.js";
import { decodeMembership } from "./group-metadata.js";
import { pinPending, pinsViolation, type PinTiming } from "./identity-pins.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The 0xFF01 payload: inbox → pinned sequence id, and the installations that could not be added. */
export interface MembershipMap {
  readonly members: ReadonlyMap<string, bigint>;
  /** Hex installation keys. */
  readonly failed: ReadonlySet<string>;
}

export function decodeMembershipMap(bytes: Uint8Array): MembershipMap {
  const m = decode(mc.GroupMembershipSchema, bytes);
  return { members: new Map(Object.entries(m.members)), failed: new Set(m.failedInstallations.map(hex)) };
}

/** Hex installation keys a membership change adds and removes. */
export interface InstallationDiff {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

export type Histories = ReadonlyMap<string, InboxHistory | undefined>;

/** The state a NEW pin names: 0 (kept 0 -> 0) is the latest, any other the entry with exactly that sequence id. */
export function stateAtNewPin(history: InboxHistory, sequenceId: bigint) {
  return sequenceId === 0n ? history.latest : history.entry(sequenceId)?.state;
}

/**
 * The state a pin the group already holds names: read at or below it, as
 * pins were read before they had to name an entry, so that a group that
 * accepted such a pin then judges later changes as it did.
 */
function stateAtHeldPin(history: InboxHistory, sequenceId: bigint) {
  return sequenceId === 0n ? history.latest : history.at(sequenceId);
}

function stateAtOldPin(history: InboxHistory, sequenceId: bigint | undefined) {
  return sequenceId === undefined || sequenceId === 0n ? undefined : stateAtHeldPin(history, sequenceId);
}

/**
 * The installations the change from `before` to `after` implies (section
 * 3.3 step 2): for an added or re-pinned inbox, what its state gained and
 * lost between the two pins; for a removed inbox, everything it had at its
 * old pin.
 *
 * @returns the diff, or the inbox whose history is missing.
 */
export function expectedInstallationDiff(
  before: MembershipMap,
  after: MembershipMap,
  histories: Histories,
): InstallationDiff | { readonly missing: string } {
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const [inboxId, seq] of after.members) {
    const old = before.members.get(inboxId);
    if (old === seq) continue;
    const history = histories.get(inboxId);
    if (history === undefined) return { missing: inboxId };
    const from = installationsOf(stateAtOldPin(history, old));
    const to = installationsOf(stateAtNewPin(history, seq));
    for (const key of to) if (!from.has(key)) added.add(key);
    for (const key of from) if (!to.has(key)) removed.add(key);
  }
  for (const [inboxId, old] of before.members) {
    if (after.members.has(inboxId)) continue;
    const history = histories.get(inboxId);
    if (history === undefined) return { missing: inboxId };
    for (const key of installationsOf(stateAtHeldPin(history, old))) removed.add(key);
  }
  return { added, removed };
}

/** The inboxes whose histories the rules need for a change: re-pinned, added, removed, and the committer's. */
export function inboxesToCheck(before: MembershipMap, after: MembershipMap, committerInboxId?: string): string[] {
  const out = new Set<string>();
  for (const [inboxId, seq] of after.members) if (before.members.get(inboxId) !== seq) out.add(inboxId);
  for (const inboxId of before.members.keys()) if (!after.members.has(inboxId)) out.add(inboxId);
  if (committerInboxId !== undefined) out.add(committerInboxId);
  return [...out];
}

/** Verified inbox histories by inbox id (the authenticator's cache, or a fetch). */
export type HistoryLookup = (inboxIds: readonly string[]) => Promise<Histories>;

/** What the identity-aware rules need beside the two states. */
export interface MembershipContext {
  /** Verified histories of at least the inboxes {@link inboxesToCheck} names. */
  readonly histories: Histories;
  /** The committer's leaf, as processMessage reports it. */
  readonly committer?: { readonly inboxId: string; readonly installationKey: Uint8Array } | undefined;
  /** Why a new pin of the change names no entry it may (identity-pins.ts), if one does not. */
  readonly pinRefusal?: string | undefined;
}

/** The pins a change sets: those of added and re-pinned inboxes. */
function newPins(before: MembershipMap, after: MembershipMap): [string, bigint][] {
  return [...after.members].filter(([inboxId, seq]) => before.members.get(inboxId) !== seq);
}

/**
 * Fetches what {@link checkMembership} needs to judge a commit from another
 * member, and judges the pins it sets (identity-pins.ts).
 *
 * @throws ClientError `client.network`, `client.identity`;
 *   `client.identity_pending` when a new pin is past an inbox's log and
 *   may still come (the commit is taken again at the next sync).
 */
export async function membershipContextFor(
  lookup: HistoryLookup,
  before: GroupState,
  after: GroupState,
  committer: MembershipContext["committer"],
  timing: PinTiming,
): Promise<MembershipContext> {
  const oldMap = decodeMembershipMap(groupExtensions(before).membership);
  const newMap = decodeMembershipMap(groupExtensions(after).membership);
  const histories = await lookup(inboxesToCheck(oldMap, newMap, committer?.inboxId));
  const pins = pinsViolation(newPins(oldMap, newMap), histories, timing);
  if (pins !== undefined && "pending" in pins) throw pinPending(pins.pending);
  return { histories, committer, pinRefusal: pins?.refused };
}

/**
 * The membership rules a receiver applies to a commit (section 3.5, rules
 * 2 to 4): identity sequence ids only increase; every leaf's inbox is in
 * the new map; every newly mapped inbox has a leaf. With `context`, also:
 * every installation the commit adds is in the expected diff; the
 * installations it removes are exactly the expected removals, less the
 * failed installations; and the committer belongs to its inbox at the new
 * pin. Each leaf was already checked against its inbox's log by the
 * authentication callback.
 *
 * Not seen here: a remove-and-re-add of one installation in one commit
 * (the tree before and after look alike), which libxmtp allows only to a
 * super admin.
 *
 * @returns undefined when the commit passes, else the rule it breaks.
 */
export function checkMembership(before: GroupState, after: GroupState, context?: MembershipContext): string | undefined {
  const oldMap = decodeMembership(groupExtensions(before).membership);
  const newMap = decodeMembership(groupExtensions(after).membership);
  for (const [inboxId, seq] of newMap) {
    const old = oldMap.get(inboxId);
    if (old !== undefined && seq < old) return "sequence id decreased";
  }
  const leaves = groupMembers(after);
  for (const leaf of leaves) if (!newMap.has(leaf.inboxId)) return "a leaf of an inbox outside the membership map";
  const withLeaves = new Set<string>(leaves.map((l) => l.inboxId));
  for (const inboxId of newMap.keys()) {
    if (!withLeaves.has(inboxId) && !oldMap.has(inboxId)) return "an inbox added with no installation";
  }
  if (context === undefined) return undefined;
  return context.pinRefusal ?? checkInstallationDiff(before, after, context);
}

function checkInstallationDiff(before: GroupState, after: GroupState, context: MembershipContext): string | undefined {
  const oldMap = decodeMembershipMap(groupExtensions(before).membership);
  const newMap = decodeMembershipMap(groupExtensions(after).membership);
  const expected = expectedInstallationDiff(oldMap, newMap, context.histories);
  if ("missing" in expected) return "an inbox of the change has no identity";
  const beforeKeys = new Set(groupMembers(before).map((m) => hex(m.installationKey)));
  const afterKeys = new Set(groupMembers(after).map((m) => hex(m.installationKey)));
  for (const key of afterKeys) {
    if (!beforeKeys.has(key) && !expected.added.has(key)) return "an installation added outside the expected diff";
  }
  const failed = new Set([...oldMap.failed, ...newMap.failed]);
  const expectedRemoved = [...expected.removed].filter((key) => !failed.has(key));
  const removed = [...beforeKeys].filter((key) => !afterKeys.has(key));
  if (removed.length !== expectedRemoved.length || removed.some((key) => !expected.removed.has(key) || failed.has(key))) {
    return "the removed installations are not the expected removals";
  }
  const committer = context.committer;
  if (committer === undefined) return "a commit with no committer leaf";
  const pin = newMap.members.get(committer.inboxId);
  const history = context.histories.get(committer.inboxId);
  const held = pin !== undefined && oldMap.members.get(committer.inboxId) === pin;
  const state = pin === undefined || history === undefined ? undefined : held ? stateAtHeldPin(history, pin) : stateAtNewPin(history, pin);
  if (!hasInstallation(state, committer.installationKey)) {
    return "the committer is not an installation of its inbox at the new sequence id";
  }
  return undefined;
}

/**
 * The initial membership check of a welcome (section 2.5 step 3): every
 * pin names an entry of its inbox's log (identity-pins.ts; 0 is refused,
 * as libxmtp reads it as a sequence id), every leaf belongs to its inbox's
 * state at the pinned sequence id, and every installation of those states
 * is in the tree unless it failed.
 *
 * @param histories verified histories of every inbox in the welcome's map.
 * @param timing the welcome's node time and our clock.
 * @returns undefined when the group passes, else the rule it breaks.
 * @throws ClientError `client.identity_pending` when a pin is past an
 *   inbox's log and may still come (the welcome is taken again later).
 */
export function checkWelcomeMembership(state: GroupState, histories: Histories, timing: PinTiming): string | undefined {
  const map = decodeMembershipMap(groupExtensions(state).membership);
  const pins = pinsViolation(map.members, histories, timing);
  if (pins !== undefined && "pending" in pins) throw pinPending(pins.pending);
  if (pins !== undefined) return pins.refused;
  const leaves = groupMembers(state);
  for (const leaf of leaves) {
    const pin = map.members.get(leaf.inboxId);
    const history = histories.get(leaf.inboxId);
    if (pin === undefined || history === undefined) return "a leaf of an inbox outside the membership map";
    if (!hasInstallation(stateAtNewPin(history, pin), leaf.installationKey)) return "a leaf not in its inbox at the pinned sequence id";
  }
  const inTree = new Set(leaves.map((l) => hex(l.installationKey)));
  for (const [inboxId, pin] of map.members) {
    const history = histories.get(inboxId);
    if (history === undefined) return "an inbox of the map has no identity";
    for (const key of installationsOf(stateAtNewPin(history, pin))) {
      if (!inTree.has(key) && !map.failed.has(key)) return "an installation of a member is missing from the tree";
    }
  }
  return undefined;
}

/**
 * {@link checkWelcomeMembership} with the histories fetched.
 *
 * @throws ClientError `client.network`, `client.identity`, `client.identity_pending`.
 */
/**
 * A membership map naming more inboxes than a group may hold
 * (MAX_GROUP_INBOXES): refused before any of them is looked up, so that one
 * commit or welcome cannot cost thousands of identity lookups.
 *
 * @returns undefined when it fits, else the rule it breaks (for logs).
 */
export function groupSizeViolation(state: GroupState): string | undefined {
  const size = decodeMembershipMap(groupExtensions(state).membership).members.size;
  return size > MAX_GROUP_INBOXES ? `the membership names more than ${MAX_GROUP_INBOXES} inboxes` : undefined;
}

export async function checkJoinedGroup(lookup: HistoryLookup, state: GroupState, timing: PinTiming): Promise<string | undefined> {
  const tooMany = groupSizeViolation(state);
  if (tooMany !== undefined) return tooMany;
  const inboxes = [...decodeMembershipMap(groupExtensions(state).membership).members.keys()];
  return checkWelcomeMembership(state, await lookup(inboxes), timing);
}
