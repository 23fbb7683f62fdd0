// Replaying an inbox's log (../shared/spec/xmtp-node-api.md sections 2.2
// and 3.5): every update decoded, every signature verified, the rules
// applied in sequence-id order. Refusals are tagged results: they are the
// expected outcome of bad input, not faults.
import type { associations, DecodeOptions } from "@parley/proto";
import { IdentityError, toResult, type IdentityResult } from "../identity-error.js";
import { decodeIdentityUpdate, fromIdentityUpdateProto, type UnverifiedIdentityUpdate } from "../update/unverified-identity-update.js";
import { verifyIdentityUpdate, type VerifiedIdentityUpdate, type VerifyOptions } from "../update/verify-identity-update.js";
import { applyIdentityUpdate, maxIdentityUpdates } from "./apply-identity-update.js";
import { diffStates, type AssociationState, type AssociationStateDiff } from "./association-state.js";

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
 * applyIdentityUpdate, and `identity.out_of_order` for a `sequenceId` not
 * above the state's.
 */
export async function validateIdentityUpdate(
  state: AssociationState | undefined,
  update: Uint8Array | associations.IdentityUpdate,
  options: ValidateOptions & { readonly sequenceId?: bigint } = {},
): Promise<IdentityResult<{ readonly state: AssociationState; readonly diff: AssociationStateDiff }>> {
  return toResult(async () => {
    if (state !== undefined && state.updateCount >= maxIdentityUpdates) {
      throw new IdentityError("identity.log_full", `the inbox already holds ${maxIdentityUpdates} updates`);
    }
    const last = state?.sequenceId;
    if (last !== undefined && options.sequenceId !== undefined && options.sequenceId <= last) {
      throw new IdentityError("identity.out_of_order", `sequence id ${options.sequenceId} after ${last}`);
    }
    const verified = await verifier(options)(unverified(update, options));
    const after = applyIdentityUpdate(
      state,
      verified,
      options.sequenceId === undefined ? {} : { sequenceId: options.sequenceId },
    );
    return { state: after, diff: diffStates(state, after) };
  });
}

/**
 * Replays an inbox's whole log, oldest first. Sequence ids must rise (they
 * are global on the node, so they need not be contiguous), and the entries
 * must build one inbox. Refusal codes: those of validateIdentityUpdate,
 * plus `identity.out_of_order`.
 */
export async function replayInbox(
  entries: readonly IdentityUpdateLogEntry[],
  options: ValidateOptions = {},
): Promise<IdentityResult<AssociationState>> {
  return toResult(async () => {
    if (entries.length > maxIdentityUpdates) {
      throw new IdentityError("identity.log_full", `${entries.length} updates exceed the cap of ${maxIdentityUpdates}`);
    }
    const verify = verifier(options);
    let state: AssociationState | undefined;
    for (const entry of entries) {
      if (state?.sequenceId !== undefined && entry.sequenceId <= state.sequenceId) {
        throw new IdentityError("identity.out_of_order", `sequence id ${entry.sequenceId} after ${state.sequenceId}`);
      }
      const verified = await verify(unverified(entry.update, options));
      state = applyIdentityUpdate(state, verified, { sequenceId: entry.sequenceId });
    }
    if (state === undefined) throw new IdentityError("identity.not_created", "an empty log builds no inbox");
    return state;
  });
}
