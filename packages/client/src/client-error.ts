// The one error class of @parley/client, with a closed set of stable codes.
// Callers switch on `code`, never on the message text. The cause (a
// ConnectError, an MlsError, an IdentityError) is kept for logs.

export type ClientErrorCode =
  /** The node could not be reached, or the call failed on the way (a reset stream, a broken connection, a node error of its own). */
  | "client.network"
  /**
   * The node refused the request (gRPC INVALID_ARGUMENT, RESOURCE_EXHAUSTED,
   * FAILED_PRECONDITION or NOT_FOUND): its rate limit, its answer byte
   * limit, or a rule of its own. Not a network failure: an input whose
   * processing meets one is retried a bounded number of times, then refused
   * (incoming/incoming-failure.ts).
   */
  | "client.node_refused"
  /** The node did not answer within the call's deadline (api/api-client.ts). */
  | "client.timeout"
  /** The node's answer, or one message of a stream, is larger than the client reads (api/api-client.ts). */
  | "client.response_too_large"
  /** The node answered with something that does not make sense (missing fields, wrong counts). */
  | "client.bad_response"
  /** An inbox, installation, key package or conversation was not found. */
  | "client.not_found"
  /** The signer's address has an inbox but this installation is not registered, and no signer was given. */
  | "client.not_registered"
  /** The local database belongs to another inbox or is unreadable. */
  | "client.bad_store"
  /**
   * SQLite's native addon (better-sqlite3-multiple-ciphers) does not load:
   * its binary was not built (installed with scripts off) or was built for
   * another Node. Install with scripts enabled, or `npm rebuild
   * better-sqlite3-multiple-ciphers`. No file is made.
   */
  | "client.no_native_sqlite"
  /** The local database was written by a newer version of the client (its store version is above ours): refused, never read. */
  | "client.store_too_new"
  /** `dbEncryptionKey` does not open the local database (another key's, or a file that is not a database): nothing written. */
  | "client.store_wrong_key"
  /** No `dbEncryptionKey` was given for a local database that is encrypted: nothing read or written. */
  | "client.store_encrypted"
  /** A `dbEncryptionKey` was given for a local database written without one: refused, not encrypted in place. */
  | "client.store_not_encrypted"
  /** A `dbEncryptionKey` was given but the SQLite build in use does not encrypt: fails closed, no secret written. */
  | "client.store_no_cipher"
  /** A commit of ours lost the race too many times. */
  | "client.publish_failed"
  /** The identity state refused a member or an update. */
  | "client.identity"
  /**
   * A group change or welcome pins an inbox to a sequence id past what the
   * node's log of it holds yet: the group (or the welcomes) wait before it,
   * and the next sync takes it again (conversations/identity-pins.ts).
   */
  | "client.identity_pending"
  /** The caller asked for something that cannot be done (bad argument, inactive group). */
  | "client.usage"
  /** The group's permission policy does not let us make this change (sending side). */
  | "client.permission_denied"
  /** An application message's envelope or content does not decode. */
  | "client.bad_content";

export class ClientError extends Error {
  override readonly name = "ClientError";
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isClientError(error: unknown): error is ClientError {
  return error instanceof ClientError;
}
