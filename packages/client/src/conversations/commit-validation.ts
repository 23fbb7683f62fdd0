// The rules a commit must keep before it applies (../shared/spec/xmtp-client.md
// section 3.5): rule 1 (the committer is a member), the membership rules
// (2, 3: `checkMembership`, passed in so that this module does not depend on
// where it lives; and 3's exception: only super admins re-add), rule 6 (metadata length limits), rule 8 (ImmutableMetadata
// never changes), and rule 5 (permissions, against the committer). The same
// permission rules hold for our own commits before they are published.
//
// A refused commit is skipped by the caller: the group stays on its epoch
// and the cursor moves past it, as libxmtp does; applying it would fork us
// from the members who refuse it.
import { groupExtensions, type GroupState, type ProcessResult, type XmtpGroupExtensions } from "@parley/mls";
import { ClientError } from "../client-error.js";
import { decodeImmutableMetadata, decodeMembership, decodeMutableMetadata, METADATA_LIMITS } from "./group-metadata.js";
import { dmShapeViolation, namedDmPair } from "./dm-validation.js";
import { decodePolicySet, permissionViolation } from "./permissions.js";

export type CommitOutcome = Extract<ProcessResult, { kind: "commit" }>;
export type MembershipCheck = (before: GroupState, after: GroupState) => string | undefined;

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

function lengthViolation(ext: XmtpGroupExtensions): string | undefined {
  const attributes = decodeMutableMetadata(ext.mutableMetadata).attributes;
  for (const [key, limit] of Object.entries(METADATA_LIMITS)) {
    const value = attributes[key];
    if (value !== undefined && Buffer.byteLength(value, "utf8") > limit) return `${key} is longer than ${limit} bytes`;
  }
  return undefined;
}

function extensionRules(before: GroupState, after: GroupState, committerInboxId: string): string | undefined {
  let b: XmtpGroupExtensions;
  let a: XmtpGroupExtensions;
  try {
    b = groupExtensions(before);
    a = groupExtensions(after);
  } catch {
    return "the group context lacks XMTP's extensions";
  }
  if (!sameBytes(b.immutableMetadata, a.immutableMetadata)) return "the immutable metadata changed";
  try {
    return lengthViolation(a) ?? permissionViolation(b, a, committerInboxId);
  } catch {
    // Metadata or membership payloads that do not decode.
    return "an XMTP extension does not decode";
  }
}

/**
 * A group joined from a welcome must carry XMTP's extensions in a form we
 * read (every getter and every later check decodes them), within the
 * length limits: the welcome's counterpart of rules 6 and 8.
 *
 * @returns undefined when it does, else what is wrong (for logs).
 */
export function welcomeExtensionViolation(state: GroupState): string | undefined {
  try {
    const ext = groupExtensions(state);
    decodeImmutableMetadata(ext.immutableMetadata);
    decodeMembership(ext.membership);
    if (decodePolicySet(ext.permissions) === undefined) return "the permission policies do not decode";
    return lengthViolation(ext);
  } catch {
    return "an XMTP extension does not decode";
  }
}

/**
 * Checks a commit, processed (another member's) or built (ours) but not
 * yet applied; commit-verdict.ts runs it with the membership rules.
 *
 * @returns undefined when it may apply, else the rule it breaks (for logs).
 */
export function validateCommit(
  before: GroupState,
  outcome: Pick<CommitOutcome, "after" | "committer" | "readded">,
  checkMembership: MembershipCheck,
): string | undefined {
  if (outcome.committer === undefined) return "the committer is not a member";
  // A commit that removes us is held to every rule the others apply, on the
  // tree and extensions it leads to (`after`), before we leave on its word.
  if (outcome.readded.length > 0 && !isSuperAdmin(before, outcome.committer.inboxId)) {
    return "an installation removed and added back by a member that is not a super admin";
  }
  return checkMembership(before, outcome.after) ?? extensionRules(before, outcome.after, outcome.committer.inboxId) ?? dmRules(before, outcome.after);
}

/**
 * A DM stays a DM (dm-validation.ts): the permission rules already keep a
 * third inbox out of a DM joined as one, so this refuses only what they
 * would let through if they ever changed; a group that was never a sound
 * DM (stored before DMs were checked) is not held to it, so that it is not
 * forked from its members.
 */
function dmRules(before: GroupState, after: GroupState): string | undefined {
  try {
    if (namedDmPair(before) === undefined || dmShapeViolation(before) !== undefined) return undefined;
  } catch {
    return undefined;
  }
  return dmShapeViolation(after);
}

/** Section 3.5 rule 3's exception: only a super admin re-adds (fork recovery). */
function isSuperAdmin(before: GroupState, inboxId: string): boolean {
  try {
    return (decodeMutableMetadata(groupExtensions(before).mutableMetadata).superAdminList?.inboxIds ?? []).includes(inboxId);
  } catch {
    return false;
  }
}

/**
 * The permission check of our own change, before it is published: the same
 * rules the receivers apply, so that we never publish what they refuse.
 *
 * @throws ClientError `client.permission_denied`.
 */
export function assertOwnCommitAllowed(before: GroupState, after: GroupState, ourInboxId: string): void {
  const violation = extensionRules(before, after, ourInboxId);
  if (violation !== undefined) throw new ClientError("client.permission_denied", `the group's rules refuse this change: ${violation}`);
}
