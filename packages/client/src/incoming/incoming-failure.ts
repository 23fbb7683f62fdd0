// What happens to anything that arrives from the network and fails: a group
// message, a welcome, or a stream's wake-up. One decision for all of them,
// so that the same failure is never skipped in one place and retried in
// another (a commit skipped by one member and applied by the others forks
// the group; an envelope retried for ever stops it):
//
// - retry: the failure is ours or the network's, not the input's (a node
//   that did not answer while we fetched a member's identity log, a log
//   that does not reach a pin yet, within the wait of identity-pins.ts, our
//   own database failing). Stop before the input; the next sync takes it
//   again.
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
  if (isClientError(error) && (error.code === "client.network" || error.code === "client.bad_store" || error.code === "client.identity_pending")) {
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
