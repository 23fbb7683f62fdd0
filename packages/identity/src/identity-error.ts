// The one error class of @parley/identity, with a closed set of stable codes.
// The codes follow the failures of libxmtp's xmtp_id validator
// (../shared/spec/xmtp-node-api.md section 3.5); the node maps them to gRPC
// codes at its edge. Messages never carry key material or signatures.

export type IdentityErrorCode =
  /** Bytes that don't decode, a required field missing, a field of the wrong shape. */
  | "identity.malformed"
  /** An IdentityAction with no action this package knows. */
  | "identity.unknown_action"
  /** An identifier that is not a lowercase 0x address, a 32-byte key or hex. */
  | "identity.invalid_identifier"
  /** A signature that does not verify, or does not come from the identifier it is for. */
  | "identity.bad_signature"
  /** A smart-contract-wallet, passkey or legacy signature with no verifier for it. */
  | "identity.unsupported_signature"
  /** A signature kind that doesn't suit the member it signs for (an installation key for a wallet). */
  | "identity.signature_kind_not_allowed"
  /** A plugged-in verifier failed (a chain RPC down): worth retrying. */
  | "identity.verifier_unavailable"
  /** The update's inbox_id is not the inbox its actions build. */
  | "identity.wrong_inbox_id"
  /** A signature seen in an earlier update of the inbox. */
  | "identity.replayed_signature"
  /** An action on an inbox that has no CreateInbox yet, or an update that leaves no inbox. */
  | "identity.not_created"
  /** A second CreateInbox. */
  | "identity.already_created"
  /** The existing-member signature of an AddAssociation is by neither a member nor the recovery identifier. */
  | "identity.not_a_member"
  /** A revocation or recovery change not signed by the recovery identifier. */
  | "identity.not_recovery_identifier"
  /** An installation signing to add an installation. */
  | "identity.installation_adds_installation"
  /** A member signing to add itself. */
  | "identity.adds_itself"
  /** A smart-wallet member signing from a chain other than the one it was added on. */
  | "identity.chain_id_mismatch"
  /** An update with more actions or distinct signatures than one update may carry (update/update-caps.ts). */
  | "identity.too_large"
  /** The inbox already holds 256 updates. */
  | "identity.log_full"
  /** An update not signed by the recovery identifier on a log of 240 updates or more: the rest are the recovery identifier's. */
  | "identity.reserved_for_recovery"
  /** An update not signed by the recovery identifier with more than one action. */
  | "identity.too_many_actions"
  /** Log entries of another inbox, or not in ascending sequence-id order. */
  | "identity.out_of_order"
  /** A signature request built or signed wrongly by the caller. */
  | "identity.bad_request";

export class IdentityError extends Error {
  override readonly name = "IdentityError";

  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isIdentityError(value: unknown): value is IdentityError {
  return value instanceof IdentityError;
}

/** What validation returns: the trusted value, or why the input was refused. */
export type IdentityResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: IdentityError };

/** Runs `f`, turning a thrown IdentityError into a refused result; anything else is a bug and is rethrown. */
export async function toResult<T>(f: () => Promise<T>): Promise<IdentityResult<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (error) {
    if (isIdentityError(error)) return { ok: false, error };
    throw error;
  }
}
