// The stored form of a group: one version byte, then ts-mls's own binary
// encoding of its ClientState. The byte names the engine format, so that a
// ts-mls upgrade that changes its encoding (2.x did, spec mls-engine.md)
// becomes a new version here with a migration, not a silent misread.
import { clientStateDecoder, clientStateEncoder, encode } from "./engine/ts-mls.js";
import { concat } from "./crypto/bytes.js";
import { decodeExactly } from "./codec.js";
import { engineOf, wrapState, type GroupState } from "./group/group-state.js";
import { migrateSkippedSecrets } from "./group/skipped-keys.js";
import { MlsError } from "./mls-error.js";

/** Version 1: ts-mls 2.0.0-rc.10 ClientState encoding. */
export const STATE_VERSION = 1;

/** Contains the group's secrets: store it as such. */
export function encodeGroupState(state: GroupState): Uint8Array {
  return concat(Uint8Array.of(STATE_VERSION), encode(clientStateEncoder, engineOf(state)));
}

/**
 * @throws MlsError `mls.bad_state_version` for an unknown version byte,
 *   `mls.corrupt_state` when the rest does not decode.
 */
export function decodeGroupState(bytes: Uint8Array): GroupState {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new MlsError("mls.corrupt_state", "group state: empty");
  if (bytes[0] !== STATE_VERSION) throw new MlsError("mls.bad_state_version", `group state: unknown version ${bytes[0]}`);
  try {
    const engine = decodeExactly(clientStateDecoder, bytes.subarray(1), "group state");
    if (!(engine.groupContext?.groupId instanceof Uint8Array) || engine.ratchetTree.length === 0) {
      throw new MlsError("mls.corrupt_state", "group state: incomplete");
    }
    // Skipped-generation entries of states stored before the engine mend skipped-keys-*.
    return wrapState(migrateSkippedSecrets(engine));
  } catch (cause) {
    throw new MlsError("mls.corrupt_state", "group state: does not decode", { cause });
  }
}
