// Application messages (RFC 9420 6.3), always PrivateMessages, no padding.
import { createApplicationMessage, encode, mlsMessageEncoder } from "../engine/ts-mls.js";
import { guard } from "../engine-errors.js";
import type { Consumed } from "./consumed.js";
import { engineContext, engineOf, wrapState, type GroupState } from "./group-state.js";

export interface EncryptResult {
  readonly state: GroupState;
  /** The MLSMessage (PrivateMessage) to publish. */
  readonly message: Uint8Array;
  /** The sending ratchet's used secret: erase once `state` is stored. */
  readonly consumed: Consumed;
}

// Sending validates no leaf; a check that refuses makes any unexpected call loud.
const noMemberChecks = () => false;

/** @throws MlsError `mls.usage` when the state cannot send (removed, pending proposals). */
export async function encryptMessage(state: GroupState, plaintext: Uint8Array): Promise<EncryptResult> {
  const { context } = engineContext(noMemberChecks);
  return guard("encryptMessage", "mls.internal", async () => {
    const result = await createApplicationMessage({ context, state: engineOf(state), message: plaintext });
    return { state: wrapState(result.newState), message: encode(mlsMessageEncoder, result.message), consumed: result.consumed };
  });
}
