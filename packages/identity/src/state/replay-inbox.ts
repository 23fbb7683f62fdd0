// Replaying an inbox's log (../shared/spec/xmtp-node-api.md sections 2.2
// and 3.5): every update decoded, every signature verified, the rules
// applied in sequence-id order. Refusals are tagged results: they are the
// expected outcome of bad input, not faults. A publish is refused for
// breaking the recovery reserve; a log entry that breaks it is read as
// without effect (recovery-reserve.ts).
import type { associations, DecodeOptions } from "@parley/proto";
import { IdentityError, toResult, type IdentityErrorCode, type IdentityResult } from "../identity-error.js";
import { decodeIdentityUpdate, fromIdentityUpdateProto, type UnverifiedIdentityUpdate } from "../update/unverified-identity-update.js";
import { verifyIdentityUpdate, type VerifiedIdentityUpdate, type VerifyOptions } from "../update/verify-identity-update.js";
import { applyIdentityUpdate } from "./apply-identity-update.js";
import { diffStates, type AssociationState, type AssociationStateDiff } from "./association-state.js";
import { assertLogNotFull, isRecoveryReserveRefusal, maxIdentityUpdates, withoutEffect } from "./recovery-reserve.js";

/** One entry of an inbox's log, as GetIdentityUpdates returns it. */
export interface IdentityUpdateLogEntry {
  readonly sequenceId: bigint;
  /** Encoded bytes (decoded here) or an already decoded message. */
  readonly update: Uint8Array | associations.IdentityUpdate;
}

export interface ValidateOptions extends VerifyOptions {
  /** The cap on encoded update size handed to the decoder. */
  readonly decode?: DecodeOptions;
  /**
   * Where signatures are verified: {@link verifyIdentityUpdate} in this
   * thread by default. A node passes one that runs it in a worker thread,
   * so that milliseconds of signature checks never hold up its event loop;
   * it must resolve to what verifyIdentityUpdate would, or reject with its
   * IdentityError.
   */
  readonly verify?: (update: UnverifiedIdentityUpdate) => Promise<VerifiedIdentityUpdate>;
}

function verifier(options: ValidateOptions): (update: UnverifiedIdentityUpdate) => Promise<VerifiedIdentityUpdate> {
  return options.verify ?? ((update) => verifyIdentityUpdate(update, options));
}

function unverified(update: Uint8Array | associations.IdentityUpdate, options: ValidateOptions) {
  return update instanceof Uint8Array ? decodeIdentityUpdate(update, options.decode) : fromIdentityUpdateProto(update);
}

/**
 * Checks one new update against an inbox's current state (undefined when
 * the inbox has no log yet), as the node does on PublishIdentityUpdate.
 * Refusal codes: those of decodeIdentityUpdate, verifyIdentityUpdate and
 * applyIdentityUpdate (the recovery reserve's included), and
 * `identity.out_of_order` for a `sequenceId` not above the state's.
 */
export async function validateIdentityUpdate(
  state: AssociationState | undefined,
  update: Uint8Array | associations.IdentityUpdate,
  options: ValidateOptions & { readonly sequenceId?: bigint } = {},
): Promise<IdentityResult<{ readonly state: AssociationState; readonly diff: AssociationStateDiff }>> {
  return toResult(async () => {
    const after = await apply(state, update, options, options.sequenceId);
    return { state: after, diff: diffStates(state, after) };
  });
}

/**
 * Reads the next entry of an inbox's log, as a client does: as
 * {@link validateIdentityUpdate}, except that an entry the recovery reserve
 * refuses (a node stored it past the rule) is taken as without effect:
 * the state moves to its sequence id and counts it, nothing else changes,
 * and `disregarded` says why. Every reader of the same log reaches the same
 * state.
 */
export async function readLogEntry(
  state: AssociationState | undefined,
  entry: IdentityUpdateLogEntry,
  options: ValidateOptions = {},
): Promise<
  IdentityResult<{ readonly state: AssociationState; readonly diff: AssociationStateDiff; readonly disregarded?: IdentityErrorCode }>
> {
  return toResult(async () => {
    try {
      const after = await apply(state, entry.update, options, entry.sequenceId);
      return { state: after, diff: diffStates(state, after) };
    } catch (error) {
      if (state === undefined || !isRecoveryReserveRefusal(error)) throw error;
      return { state: withoutEffect(state, entry.sequenceId), diff: { newMembers: [], removedMembers: [] }, disregarded: error.code };
    }
  });
}

async function apply(
  state: AssociationState | undefined,
  update: Uint8Array | associations.IdentityUpdate,
  options: ValidateOptions,
  sequenceId: bigint | undefined,
): Promise<AssociationState> {
  assertLogNotFull(state);
  const last = state?.sequenceId;
  if (last !== undefined && sequenceId !== undefined && sequenceId <= last) {
    throw new IdentityError("identity.out_of_order", `sequence id ${sequenceId} after ${last}`);
  }
  const verified = await verifier(options)(unverified(update, options));
  return applyIdentityUpdate(state, verified, sequenceId === undefined ? {} : { sequenceId });
}

/**
 * Replays an inbox's whole log, oldest first, each entry as
 * {@link readLogEntry} reads it. Sequence ids must rise (they are global on
 * the node, so they need not be contiguous), and the entries must build one
 * inbox. Refusal codes: those of validateIdentityUpdate.
 */
export async function replayInbox(
  entries: readonly IdentityUpdateLogEntry[],
  options: ValidateOptions = {},
): Promise<IdentityResult<AssociationState>> {
  return toResult(async () => {
    if (entries.length > maxIdentityUpdates) {
      throw new IdentityError("identity.log_full", `${entries.length} updates exceed the cap of ${maxIdentityUpdates}`);
    }
    let state: AssociationState | undefined;
    for (const entry of entries) {
      const read = await readLogEntry(state, entry, options);
      if (!read.ok) throw read.error;
      state = read.value.state;
    }
    if (state === undefined) throw new IdentityError("identity.not_created", "an empty log builds no inbox");
    return state;
  });
}
