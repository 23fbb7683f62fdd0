// What one envelope of a group means (../shared/spec/xmtp-client.md 3.3,
// 3.5, 3.8), decided from the group's state and the envelope alone: this
// step writes nothing. It returns a tagged outcome, which apply-outcome.ts
// writes; so every decision here can be tested without a node or a store.
//
// Our own envelopes come back from the node and cannot be decrypted by us:
// they are recognised by the hash of their bytes (the intent they belong
// to, whatever its state, or a payload we recorded). A commit of ours won
// its epoch if it is the first commit of that epoch in the node's order,
// i.e. the state is still at the epoch the commit was built on; it is then
// merged even if we had given up waiting for it, because it is the commit
// every other member applies (RFC 9420 14: one commit per epoch).
import { decodeGroupState, encodeGroupState, groupMembers, isRemoved, mergeOwnCommit, processMessage, type Consumed, type GroupState } from "@parley/mls";
import type { InboxId, InstallationKey } from "@parley/proto";
import type { ClientError } from "../client-error.js";
import { decodeIncomingPayload } from "../content/incoming-payload.js";
import { GROUP_UPDATED_TYPE } from "../content/group-updated-codec.js";
import { messageId } from "../content/text-codec.js";
import type { IdentityAuthenticator } from "../identity/identity-lookup.js";
import { classifyFailure, type RefusalCode } from "../incoming/incoming-failure.js";
import type { IntentRow, StoredMessage } from "../store/local-store.js";
import { commitVerdict } from "./commit-verdict.js";
import { commitTranscript } from "./group-transcript.js";
import { requiredVersionAboveOurs } from "./protocol-version.js";

export interface Envelope {
  /** The node's id: the cursor once processed. */
  readonly id: bigint;
  readonly createdNs: bigint;
  readonly data: Uint8Array;
}

export interface EnvelopeContext {
  /** The conversation's local key (local-key.ts): stored messages and their ids are under it. */
  readonly localKey: Uint8Array;
  readonly ownInboxId: InboxId;
  readonly ownInstallationKey: InstallationKey;
  readonly authenticate: IdentityAuthenticator;
  /** Our intent whose payload has this envelope's hash, in whatever state, if any. */
  readonly ownIntent: IntentRow | undefined;
  /** Whether we published these bytes (a recorded payload outlives its intent). */
  readonly ownPayload: boolean;
  /** Our clock, for how long a pin past an inbox's log is waited for (identity-pins.ts). */
  readonly nowNs: bigint;
}

/** Why an envelope was skipped, for the log: a stable code, a rule in words, the lower error. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly reason?: string;
  readonly cause?: unknown;
  readonly level: "warn" | "debug" | "error";
  /** With `refused.cloned_installation`: what was signed with our key, to report. */
  readonly cloned?: "commit" | "message";
}

const clonedCommit: Refusal = { code: "refused.cloned_installation", level: "error", cloned: "commit" };
const clonedMessage: Refusal = { code: "refused.cloned_installation", level: "error", cloned: "message" };

export type EnvelopeOutcome =
  /** Nothing to read: we are no longer a member, or it is a payload of ours already accounted for. */
  | { readonly kind: "skip" }
  /** Our message came back: it now has the node's time. */
  | { readonly kind: "own_message"; readonly intentId: bigint; readonly messageId: string }
  /** Our commit came back: `won` when it was first in its epoch (merge its staged state), else lost. */
  | {
      readonly kind: "own_commit";
      readonly intentId: bigint;
      readonly won?: { readonly state: GroupState; readonly staged: Uint8Array; readonly transcript: StoredMessage | undefined };
    }
  /**
   * A message, commit or proposal of another member, applied; `refusal` when
   * only its content was refused; `consumed`, what the old state used up, to
   * erase once the new state is stored.
   */
  | {
      readonly kind: "applied";
      readonly state: GroupState;
      readonly consumed: Consumed;
      readonly message?: StoredMessage;
      readonly refusal?: Refusal;
    }
  /** Skipped for good: the state stays as it was. */
  | { readonly kind: "refused"; readonly refusal: Refusal }
  /** A commit that requires a newer protocol version: the group waits before it (section 3.5 rule 7). */
  | { readonly kind: "paused"; readonly version: string; readonly refusal: Refusal }
  /** Not the envelope's fault (the network, our store): stop before it, take it again later. */
  | { readonly kind: "retry"; readonly error: ClientError };

/**
 * Whether a refusal can mean the envelope belongs to another group on the
 * same group id (local-key.ts): it does not decrypt under our state (the
 * sender data AEAD fails, RFC 9420 6.3.2) or names an epoch we do not hold.
 */
export function isForSibling(outcome: EnvelopeOutcome): boolean {
  return outcome.kind === "refused" && (outcome.refusal.code === "refused.undecryptable" || outcome.refusal.code === "refused.wrong_epoch");
}

/** Whether `installationKey` is a member of the group in `state`. */
export function isMemberIn(state: GroupState, installationKey: Uint8Array): boolean {
  if (isRemoved(state)) return false;
  return groupMembers(state).some((m) => Buffer.compare(m.installationKey, installationKey) === 0);
}

function source(context: EnvelopeContext, envelope: Envelope) {
  return { localKey: context.localKey, createdNs: envelope.createdNs, cursor: envelope.id };
}

/** An application message's payload as a stored message, or why its content was refused. */
function storedApplication(
  plaintext: Uint8Array,
  senderInboxId: string,
  envelope: Envelope,
  localKey: Uint8Array,
): { message?: StoredMessage; refusal?: Refusal } {
  let payload;
  try {
    payload = decodeIncomingPayload(plaintext);
  } catch (error) {
    return { refusal: { code: "refused.bad_content", cause: error, level: "warn" } };
  }
  // Not a message for the list (a device-sync payload, say).
  if (payload === undefined) return {};
  // Only commits make group updates: one arriving as a message is a forgery.
  if (payload.contentType === GROUP_UPDATED_TYPE) return {};
  return {
    message: {
      id: messageId(localKey, payload.idempotencyKey, payload.encodedContent),
      groupId: localKey,
      senderInboxId,
      sentAtNs: envelope.createdNs,
      contentType: payload.contentType,
      encodedContent: payload.encodedContent,
      cursor: envelope.id,
    },
  };
}

export async function processEnvelope(state: GroupState, envelope: Envelope, context: EnvelopeContext): Promise<EnvelopeOutcome> {
  // Removed: nothing after our removal is ours to read.
  if (!isMemberIn(state, context.ownInstallationKey)) return { kind: "skip" };
  const intent = context.ownIntent;
  if (intent?.operation.kind === "message") {
    const { params } = intent.operation;
    return { kind: "own_message", intentId: intent.id, messageId: messageId(context.localKey, params.idempotencyKey, params.encodedContent) };
  }
  if (intent !== undefined) {
    const staged = state.epoch === intent.baseEpoch ? intent.stagedState : undefined;
    if (staged === undefined) return { kind: "own_commit", intentId: intent.id };
    // Its past epochs keep the keys used since it was built erased (merge-commit.ts).
    const merged = mergeOwnCommit(state, decodeGroupState(staged));
    const transcript = commitTranscript(source(context, envelope), state, merged, context.ownInboxId);
    return { kind: "own_commit", intentId: intent.id, won: { state: merged, staged: encodeGroupState(merged), transcript } };
  }
  if (context.ownPayload) return { kind: "skip" };
  const { authenticate } = context;
  try {
    // Judged at the node's time of the envelope, as every member judges it (commit-checks.ts).
    const result = await processMessage(state, envelope.data, authenticate, { atSeconds: envelope.createdNs / 1_000_000_000n });
    switch (result.kind) {
      case "application":
        // Not one of our payloads (those were recognised by hash above),
        // yet signed by our leaf. Its ratchet step is kept, so that we never
        // send on the generation the other holder used.
        if (result.sender !== undefined && Buffer.compare(result.sender.installationKey, context.ownInstallationKey) === 0) {
          return { kind: "applied", state: result.state, consumed: result.consumed, refusal: clonedMessage };
        }
        return {
          kind: "applied",
          state: result.state,
          consumed: result.consumed,
          ...storedApplication(result.plaintext, result.sender?.inboxId ?? "", envelope, context.localKey),
        };
      case "commit": {
        // Checked before it applies (section 3.5): a commit whose tree,
        // membership map, identity states or permissions disagree is
        // skipped, and the group stays on its epoch.
        const timing = { sentNs: envelope.createdNs, nowNs: context.nowNs };
        const refused = await commitVerdict(authenticate.histories, state, result, timing);
        if (refused !== undefined) return { kind: "refused", refusal: { code: "refused.commit", reason: refused, level: "warn" } };
        const required = requiredVersionAboveOurs(result.state);
        if (required !== undefined) {
          return { kind: "paused", version: required, refusal: { code: "refused.paused", reason: `requires protocol version ${required}`, level: "warn" } };
        }
        const removedSelf = result.removedSelf ? context.ownInboxId : undefined;
        const transcript = commitTranscript(source(context, envelope), state, result.state, result.committer?.inboxId ?? "", removedSelf);
        return { kind: "applied", state: result.state, consumed: result.consumed, ...(transcript === undefined ? {} : { message: transcript }) };
      }
      case "proposal_refused":
        // Only the sender's handshake ratchet moves on (its key erased):
        // the proposal itself is neither stored nor ever committed.
        return {
          kind: "applied",
          state: result.state,
          consumed: result.consumed,
          refusal: { code: "refused.proposal", reason: `standalone proposal of type ${result.proposalType}`, level: "warn" },
        };
      case "from_own_leaf":
        return { kind: "refused", refusal: clonedCommit };
      default:
        // A commit that lost its race, or a stale sender: routine.
        return { kind: "refused", refusal: { code: "refused.wrong_epoch", level: "debug" } };
    }
  } catch (error) {
    const decision = classifyFailure(error, "group_message", authenticate.networkFailure());
    if (decision.action === "retry") return { kind: "retry", error: decision.error };
    return { kind: "refused", refusal: { code: decision.code, cause: decision.cause, level: decision.action === "bug" ? "error" : "warn" } };
  }
}
