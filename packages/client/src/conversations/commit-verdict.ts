// One verdict on a commit before it applies (../shared/spec/xmtp-client.md
// section 3.5; libxmtp validated_commit.rs): the group's size, the pins it
// sets, the membership rules against the verified identity logs
// (membership-rules.ts), and the rules of commit-validation.ts. A commit of
// another member is judged by it before it is applied (process-envelope.ts),
// and so is ours before it is published (intent-runner.ts): the same code,
// so that a node serving a stale or forged identity log, or another
// installation's key package, cannot make us publish a commit that every
// other member refuses (a fork) or that welcomes an installation its inbox
// no longer holds. libxmtp does not re-check its own commits.
import { groupExtensions, groupMembers, type CommitResult, type GroupState } from "@parley/mls";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import { validateCommit, type CommitOutcome } from "./commit-validation.js";
import type { PinTiming } from "./identity-pins.js";
import {
  checkMembership,
  decodeMembershipMap,
  groupSizeViolation,
  inboxesToCheck,
  membershipContextFor,
  type HistoryLookup,
} from "./membership-rules.js";

/** What the verdict reads of a commit: the tree and context it leads to, its committer, what it re-adds. */
export type JudgedCommit = Pick<CommitOutcome, "after" | "committer" | "readded">;

/**
 * The verdict on `commit`, made on `before`.
 *
 * @returns undefined when it may apply, else the rule it breaks (for logs).
 * @throws ClientError `client.network`, `client.identity`;
 *   `client.identity_pending` when a new pin is past an inbox's log and may
 *   still come.
 */
export async function commitVerdict(lookup: HistoryLookup, before: GroupState, commit: JudgedCommit, timing: PinTiming): Promise<string | undefined> {
  // Before any lookup: one commit cannot cost thousands of them.
  const tooMany = groupSizeViolation(commit.after);
  if (tooMany !== undefined) return tooMany;
  const membership = await membershipContextFor(lookup, before, commit.after, commit.committer, timing);
  return validateCommit(before, commit, (b, a) => checkMembership(b, a, membership));
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * Our own commit, built on `before`, judged as every member will judge it,
 * against the logs we verified.
 *
 * @throws ClientError `client.identity` when it breaks a rule (nothing is
 *   published); `client.network`, `client.identity_pending`.
 */
export async function assertOwnCommitPasses(
  ctx: Pick<ClientContext, "inboxId" | "installationKey" | "nowNs">,
  lookup: HistoryLookup,
  before: GroupState,
  result: CommitResult,
): Promise<void> {
  const members = groupMembers(before);
  const committer = members.find((m) => sameBytes(m.installationKey, ctx.installationKey));
  // The engine adds only through Add proposals: an added key that already had a leaf was removed and added back.
  const readded = members.filter((m) => result.added.some((kp) => sameBytes(kp.installationKey, m.installationKey)));
  // The node will stamp our commit after every entry we read (its clock
  // moves forward), and the members judge the pins at that time: not at
  // our clock, which may lag the node's.
  const inboxes = inboxesToCheck(decodeMembershipMap(groupExtensions(before).membership), decodeMembershipMap(groupExtensions(result.state).membership), ctx.inboxId);
  const now = ctx.nowNs();
  let sentNs = now;
  for (const history of (await lookup(inboxes)).values()) {
    if (history !== undefined && history.last.serverTimestampNs > sentNs) sentNs = history.last.serverTimestampNs;
  }
  const refused = await commitVerdict(lookup, before, { after: result.state, committer, readded }, { sentNs, nowNs: now });
  if (refused !== undefined) throw new ClientError("client.identity", `the group's members would refuse this change: ${refused}`);
}
