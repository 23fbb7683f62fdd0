// The one error class of @parley/proto, with a closed set of codes.

export type ProtoErrorCode =
  /** The bytes are not a valid encoding of the expected message. */
  | "proto.malformed"
  /** The bytes are longer than the caller allows. */
  | "proto.too_large"
  /** A string or byte string that is not the identifier it stands for (ids.ts). */
  | "proto.invalid_id";

export class ProtoError extends Error {
  override readonly name = "ProtoError";

  constructor(
    readonly code: ProtoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isProtoError(value: unknown): value is ProtoError {
  return value instanceof ProtoError;
}
