// The node's checks on @parley/mls and @parley/identity: what it needs no
// secret for. Each refusal becomes INVALID_ARGUMENT with the library's
// message; the library's code goes to the log through the cause.
import { replayInbox, validateIdentityUpdate, type MemberIdentifier } from "@parley/identity";
import { isMlsError, parseFraming, validateKeyPackage } from "@parley/mls";
import { invalidArgument } from "../node-error.js";
import type { IdentityUpdateFacts, StoredIdentityUpdate, Validators } from "./validators.js";

export interface XmtpValidatorOptions {
  /** The clock for key package lifetimes, in seconds. */
  readonly nowSeconds?: () => bigint;
}

const ethereumAddresses = (members: readonly MemberIdentifier[]) =>
  members.flatMap((member) => (member.kind === "ethereum" ? [member.address] : []));

export function createXmtpValidators(options: XmtpValidatorOptions = {}): Validators {
  const nowSeconds = options.nowSeconds ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  return {
    async keyPackage(keyPackage) {
      try {
        const validated = await validateKeyPackage(keyPackage, { nowSeconds: nowSeconds() });
        return { installationKey: validated.installationKey, inboxId: validated.inboxId };
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

    async identityUpdate(log: readonly StoredIdentityUpdate[], update: Uint8Array): Promise<IdentityUpdateFacts> {
      let state;
      if (log.length > 0) {
        const replayed = await replayInbox(log);
        // What the node stored validated when it was stored; a failure here
        // means the rules changed or the store is damaged, not bad input.
        if (!replayed.ok) throw new Error(`stored inbox log no longer replays: ${replayed.error.code}`);
        state = replayed.value;
      }
      const result = await validateIdentityUpdate(state, update);
      if (!result.ok) throw invalidArgument(`invalid identity update: ${result.error.message}`, result.error);
      return {
        addressesAdded: ethereumAddresses(result.value.diff.newMembers),
        addressesRemoved: ethereumAddresses(result.value.diff.removedMembers),
      };
    },
  };
}

