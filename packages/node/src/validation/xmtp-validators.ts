// The node's checks on @parley/mls and @parley/identity: what it needs no
// secret for. Each refusal becomes INVALID_ARGUMENT with the library's
// message; the library's code goes to the log through the cause.
import {
  replayInbox,
  validateIdentityUpdate,
  type AssociationState,
  type MemberIdentifier,
  type UnverifiedIdentityUpdate,
} from "@parley/identity";
import { isMlsError, parseFraming } from "@parley/mls";
import { invalidArgument } from "../node-error.js";
import { sharedVerifyPool, type VerifyPool } from "./verify-pool.js";
import type { IdentityUpdateFacts, StoredIdentityUpdate, Validators } from "./validators.js";

export interface XmtpValidatorOptions {
  /** The clock for key package lifetimes, in seconds. */
  readonly nowSeconds?: () => bigint;
  /** How many inboxes' association states to keep (least recently used go). */
  readonly cachedInboxes?: number;
  /** Where signatures are checked: the process's shared worker pool by default. */
  readonly verifyPool?: VerifyPool;
}

interface CachedInbox {
  readonly sequenceId: bigint;
  readonly state: AssociationState;
}

const ethereumAddresses = (members: readonly MemberIdentifier[]) =>
  members.flatMap((member) => (member.kind === "ethereum" ? [member.address] : []));

export function createXmtpValidators(options: XmtpValidatorOptions = {}): Validators {
  const nowSeconds = options.nowSeconds ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  const pool = options.verifyPool ?? sharedVerifyPool();
  const verify = { verify: (update: UnverifiedIdentityUpdate) => pool.verifyIdentityUpdate(update) };
  // Replaying a full inbox re-verifies 256 signatures (about 0.6 s); the
  // state after the last stored update makes a publish cost one check.
  const capacity = options.cachedInboxes ?? 10_000;
  const states = new Map<string, CachedInbox>();
  const remember = (inboxId: string, entry: CachedInbox) => {
    states.delete(inboxId);
    states.set(inboxId, entry);
    if (states.size > capacity) states.delete(states.keys().next().value as string);
  };

  async function stateAfter(inboxId: string, log: readonly StoredIdentityUpdate[]) {
    const last = log.at(-1);
    if (last === undefined) return undefined;
    const cached = states.get(inboxId);
    if (cached?.sequenceId === last.sequenceId) {
      remember(inboxId, cached);
      return cached.state;
    }
    const replayed = await replayInbox(log, verify);
    // What the node stored validated when it was stored; a failure here
    // means the rules changed or the store is damaged, not bad input.
    if (!replayed.ok) throw new Error(`stored inbox log no longer replays: ${replayed.error.code}`);
    remember(inboxId, { sequenceId: last.sequenceId, state: replayed.value });
    return replayed.value;
  }
  return {
    async keyPackage(keyPackage) {
      try {
        return await pool.validateKeyPackage(keyPackage, nowSeconds());
      } catch (error) {
        if (isMlsError(error)) throw invalidArgument(`invalid key package: ${error.message}`, error);
        throw error;
      }
    },

    groupMessage(data) {
      try {
        const framing = parseFraming(data);
        // The protocol's is_commit covers proposals too: both change the epoch's state.
        return { groupId: framing.groupId, isCommit: framing.contentType !== "application" };
      } catch (error) {
        if (isMlsError(error)) throw invalidArgument(`invalid group message: ${error.message}`, error);
        throw error;
      }
    },

    async identityUpdate(inboxId, log, update): Promise<IdentityUpdateFacts> {
      const result = await validateIdentityUpdate(await stateAfter(inboxId, log), update, verify);
      if (!result.ok) throw invalidArgument(`invalid identity update: ${result.error.message}`, result.error);
      const { state, diff } = result.value;
      return {
        addressesAdded: ethereumAddresses(diff.newMembers),
        addressesRemoved: ethereumAddresses(diff.removedMembers),
        stored: (sequenceId) => remember(state.inboxId, { sequenceId, state }),
      };
    },
  };
}

