// The one error class of @parley/mls, with a closed set of stable codes.
// Callers (the node's edge, the client) switch on `code`, never on the
// message text. Messages never carry key material or epoch secrets: they name
// what was wrong with the input, not what it contained.

export type MlsErrorCode =
  /** Bytes that do not decode as the expected MLS / TLS structure. */
  | "mls.malformed"
  /** A well-formed MLS message of a kind this entry point does not take. */
  | "mls.unexpected_wire_format"
  /** A PublicMessage arrived; XMTP's pure-ciphertext policy refuses them. */
  | "mls.public_message_refused"
  /** The message is for another group. */
  | "mls.wrong_group"
  /** The message is for an epoch this state cannot read (too old, or future). */
  | "mls.wrong_epoch"
  /** The message's generation is outside the kept out-of-order keys or beyond the forward distance. */
  | "mls.ratchet_window"
  /** A signature, MAC, AEAD tag or HPKE open failed. */
  | "mls.bad_signature"
  /** Decryption failed (wrong key, tampered ciphertext, ratchet window passed). */
  | "mls.decrypt_failed"
  /** A key package's lifetime does not cover now, or is longer than allowed. */
  | "mls.expired_key_package"
  /** A key package or leaf does not follow XMTP's profile (credential, extensions, capabilities). */
  | "mls.bad_key_package"
  /** The caller's authentication check refused a leaf's (inbox id, installation key). */
  | "mls.unauthenticated_member"
  /** The leaves name more inboxes than a group may hold (MAX_GROUP_INBOXES); the rest were not looked up. */
  | "mls.too_many_members"
  /** An MLS protocol rule was broken (tree, proposals, commit contents). */
  | "mls.invalid"
  /** The ciphersuite is not suite 3. */
  | "mls.unsupported_ciphersuite"
  /** No key package of ours matches this Welcome. */
  | "mls.no_matching_key_package"
  /** A stored state blob has a version byte this code does not know. */
  | "mls.bad_state_version"
  /** A stored state blob does not decode. */
  | "mls.corrupt_state"
  /** The caller asked for something the state can't do (e.g. send after removal). */
  | "mls.usage"
  /** A failure inside the engine that is not attributable to the input. */
  | "mls.internal"
  /**
   * Thrown while this package loads: the MLS engine found is not the exact
   * version verified, or runs without this package's mends (engine/mends.ts).
   */
  | "mls.engine_unverified";

export class MlsError extends Error {
  override readonly name = "MlsError";

  constructor(
    readonly code: MlsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMlsError(value: unknown): value is MlsError {
  return value instanceof MlsError;
}
