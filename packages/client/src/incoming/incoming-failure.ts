// What happens to anything that arrives from the network and fails: a group
// message, a welcome, or a stream's wake-up. One decision for all of them,
// so that the same failure is never skipped in one place and retried in
// another (a commit skipped by one member and applied by the others forks
// the group; an envelope retried for ever stops it):
//
// - retry: the failure is ours or the node's, not the input's (a node
//   that did not answer, or refused, while we fetched a member's identity
//   log; a log that does not reach a pin yet, within the wait of
//   identity-pins.ts; our own database failing). Stop before the input; the
//   next sync takes it again. A failure of the node's is retried a bounded
//   number of times (retryOrGiveUp): a node that fails the lookups of one
//   member's commit, or of one stranger's welcome, would otherwise stop the
//   group, or every later invitation, for good.
// - refuse: the input broke a rule (it does not decrypt, verify or decode,
//   or the identity state or XMTP's rules refuse it). Skip it for good and
//   log the refusal's code: every member reaches the same verdict.
// - bug: anything else, an error of ours. Skip it too, so that no input can
//   stop a group or a user's invitations, and log it as an error.
//
// Refusal codes are a closed list of their own: they name what was done
// with an input, they are never thrown.
import { isIdentityError } from "@parley/identity";
import { isMlsError } from "@parley/mls";
import { isProtoError } from "@parley/proto";
import { isNodeFailure } from "../api/api-client.js";
import { ClientError, isClientError } from "../client-error.js";

export type RefusalCode =
  /** A commit broke XMTP's rules (sender, membership, identity, permissions, metadata), or did not decode: not applied. */
  | "refused.commit"
  /**
   * A standalone proposal: XMTP makes every change in a commit carrying its
   * proposals by value, so none is stored for a later commit to reference.
   */
  | "refused.proposal"
  /** A group message did not decrypt, verify or parse. */
  | "refused.undecryptable"
  /** A group message for a ratchet generation already used (a replay) or out of the window. */
  | "refused.replayed"
  /** A group message for another epoch (a commit that lost its race, a stale or removed sender). */
  | "refused.wrong_epoch"
  /** A commit requires a protocol version above ours: the group waits before it (not skipped). */
  | "refused.paused"
  /** A decrypted application message whose envelope or content does not decode. */
  | "refused.bad_content"
  /**
   * A welcome that does not open, is not for one of our key packages, whose
   * members do not check out, that claims a DM it is not, or that is for a
   * group we hold and may not replace.
   */
  | "refused.welcome"
  /** Signed by our own leaf, and not ours: another holder of our installation key (identity/cloned-installation.ts). */
  | "refused.cloned_installation"
  /** A commit log entry from the node that is too large, unsigned, badly signed, malformed or off the chain; or the log shows our group forked. */
  | "refused.commit_log"
  /**
   * A key package the node served for an installation we were adding that
   * is not that installation's, does not verify, or whose installation is
   * not in its inbox's latest verified state (conversations/added-key-packages.ts):
   * the installation is not added and is listed as failed.
   */
  | "refused.key_package"
  /**
   * Processing the input failed with a failure of the node's (no answer, a
   * refusal, an answer too large) MAX_INPUT_ATTEMPTS times, spaced over at
   * least half an hour: skipped for good.
   */
  | "refused.retries_exhausted"
  /** Processing the input failed in a way no rule explains: an error of ours, skipped and logged as one. */
  | "refused.bug";

/** What arrived: the refusal codes differ, the decision does not. */
export type Arrival = "group_message" | "welcome";

export type FailureDecision =
  | { readonly action: "retry"; readonly error: ClientError }
  | { readonly action: "refuse"; readonly code: RefusalCode; readonly cause: unknown }
  | { readonly action: "bug"; readonly code: "refused.bug"; readonly cause: unknown };

/** better-sqlite3's errors: our disk or database, never the input's fault. */
function isStorageError(error: unknown): boolean {
  return error instanceof Error && error.name === "SqliteError";
}

function refusalOfMlsError(code: string): RefusalCode {
  switch (code) {
    case "mls.ratchet_window":
      return "refused.replayed";
    case "mls.wrong_epoch":
      return "refused.wrong_epoch";
    case "mls.unauthenticated_member":
    case "mls.too_many_members":
    case "mls.expired_key_package":
      return "refused.commit";
    default:
      return "refused.undecryptable";
  }
}

/**
 * Decides what to do with an input whose processing threw `error`.
 *
 * @param networkFailure the network failure met while looking up identity
 *   state for this input, if any: the engine reports such a failure as a
 *   refusal ("not authenticated"), but a member we could not look up is not
 *   a member we refused.
 */
export function classifyFailure(error: unknown, arrival: Arrival, networkFailure?: ClientError): FailureDecision {
  if (networkFailure !== undefined) return { action: "retry", error: networkFailure };
  if (isNodeFailure(error) || (isClientError(error) && (error.code === "client.bad_store" || error.code === "client.identity_pending"))) {
    return { action: "retry", error };
  }
  if (isStorageError(error)) {
    return { action: "retry", error: new ClientError("client.bad_store", "the local store failed", { cause: error }) };
  }
  const refuse = (code: RefusalCode): FailureDecision => ({ action: "refuse", code: arrival === "welcome" ? "refused.welcome" : code, cause: error });
  if (isMlsError(error)) return refuse(refusalOfMlsError(error.code));
  if (isClientError(error)) return refuse(error.code === "client.bad_content" ? "refused.bad_content" : "refused.commit");
  if (isProtoError(error) || isIdentityError(error)) return refuse("refused.commit");
  return { action: "bug", code: "refused.bug", cause: error };
}

/** How often an input was retried for a failure of the node's, as the store keeps it per input. */
export interface InputAttempts {
  readonly count: number;
  /** Our clock when the last one was counted. */
  readonly lastNs: bigint;
}

/** Counted failures of the node's after which an input is refused. */
export const MAX_INPUT_ATTEMPTS = 6;

/** The wait before a failure counts again after the first: doubled after each (1, 2, 4, 8, 16 minutes). */
const FIRST_SPACING_NS = 60n * 1_000_000_000n;

/** Where the attempts at one input are kept (the store, per group message or welcome cursor). */
export interface AttemptLedger {
  attempts(): InputAttempts | undefined;
  record(attempts: InputAttempts): void;
}

/**
 * The bounded retry of an input whose processing must be retried (a
 * "retry" decision). Our own failures (the store, a pin within its wait)
 * are retried without a count: they are not the node's doing, and the pin
 * has a bound of its own. A failure of the node's counts at most once per
 * spacing, which doubles, so that a sync loop or a stream's wake-ups do
 * not spend the attempts in seconds: a rate limit of a few seconds or a
 * short outage costs one or two, and MAX_INPUT_ATTEMPTS take at least 31
 * minutes of failing. Then the input is refused, as every member's own
 * client would do with a node that keeps failing it.
 *
 * Every refusal of the node (RESOURCE_EXHAUSTED among them) counts, never
 * refuses at once: our node's RESOURCE_EXHAUSTED is its rate limit as well
 * as its answer limit, and skipping on the first would drop a commit the
 * other members applied over a brief rate limit, forking us from them.
 *
 * libxmtp (groups/mls_sync.rs process_messages, welcome_sync.rs) retries a
 * retryable failure 5 times in one sync with backoff, then stops the sync
 * before the input, with no count kept: a node that keeps failing one
 * input stops the group (or the welcomes) for good. Ours gives up.
 */
export function retryOrGiveUp(error: ClientError, ledger: AttemptLedger, nowNs: bigint): { readonly action: "retry" } | { readonly action: "give_up"; readonly code: "refused.retries_exhausted"; readonly count: number } {
  if (!isNodeFailure(error)) return { action: "retry" };
  const previous = ledger.attempts();
  if (previous !== undefined && nowNs - previous.lastNs < FIRST_SPACING_NS << BigInt(previous.count - 1)) return { action: "retry" };
  const count = (previous?.count ?? 0) + 1;
  if (count >= MAX_INPUT_ATTEMPTS) return { action: "give_up", code: "refused.retries_exhausted", count };
  ledger.record({ count, lastNs: nowNs });
  return { action: "retry" };
}

/**
 * A stream's sync after a wake-up. A failure to retry (the network, our
 * store) leaves the input where it is, for the next wake-up or sync, and the
 * stream goes on; anything else ends the stream with that error.
 *
 * @returns whether the sync ran to its end.
 */
export async function syncOrDefer(sync: () => Promise<unknown>, arrival: Arrival): Promise<boolean> {
  try {
    await sync();
    return true;
  } catch (error) {
    if (classifyFailure(error, arrival).action === "retry") return false;
    throw error;
  }
}
