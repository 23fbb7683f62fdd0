// Turns whatever ts-mls or the provider throws into our MlsError. ts-mls
// throws its own classes (ValidationError, CodecError, ...) and, on bytes it
// did not expect, sometimes plain TypeErrors/RangeErrors from its decoders;
// untrusted input must never surface as those. The engine's message is kept
// only as `cause`: ours name the failure, not the data.
import { CodecError, CryptoError, CryptoVerificationError, UsageError, ValidationError } from "./engine/ts-mls.js";
import { AeadError } from "./crypto/aead.js";
import { HpkeError } from "./crypto/hpke.js";
import { KeyImportError } from "./crypto/okp-keys.js";
import { MlsError, type MlsErrorCode } from "./mls-error.js";

/** The code for an error thrown while handling untrusted input. */
export function codeOf(error: unknown, fallback: MlsErrorCode): MlsErrorCode {
  if (error instanceof MlsError) return error.code;
  if (error instanceof CryptoVerificationError) return "mls.bad_signature";
  if (error instanceof CryptoError || error instanceof AeadError || error instanceof HpkeError) {
    return "mls.decrypt_failed";
  }
  if (error instanceof KeyImportError) return "mls.invalid";
  if (error instanceof CodecError) return "mls.malformed";
  if (error instanceof ValidationError) return "mls.invalid";
  if (error instanceof UsageError) return "mls.usage";
  return fallback;
}

export function toMlsError(error: unknown, fallback: MlsErrorCode, what: string): MlsError {
  if (error instanceof MlsError) return error;
  return new MlsError(codeOf(error, fallback), `${what}: ${describe(codeOf(error, fallback))}`, { cause: error });
}

function describe(code: MlsErrorCode): string {
  switch (code) {
    case "mls.bad_signature":
      return "a signature or MAC did not verify";
    case "mls.decrypt_failed":
      return "decryption failed";
    case "mls.malformed":
      return "malformed input";
    case "mls.invalid":
      return "the input breaks an MLS rule";
    case "mls.usage":
      return "not possible in this state";
    default:
      return "failed";
  }
}

/** Runs `fn`, converting any throw into an MlsError. */
export async function guard<T>(what: string, fallback: MlsErrorCode, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toMlsError(error, fallback, what);
  }
}

export function guardSync<T>(what: string, fallback: MlsErrorCode, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toMlsError(error, fallback, what);
  }
}
