// Whole-input decoding with ts-mls's decoders: the input must be exactly one
// value (no trailing bytes), and any throw or miss becomes `mls.malformed`.
import type { Decoder } from "ts-mls";
import { MlsError } from "./mls-error.js";

/** Refuse anything bigger before parsing: no MLS object we take comes near. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** @throws MlsError `mls.malformed` */
export function decodeExactly<T>(decoder: Decoder<T>, bytes: Uint8Array, what: string): T {
  if (!(bytes instanceof Uint8Array)) throw new MlsError("mls.malformed", `${what}: not bytes`);
  if (bytes.length > MAX_INPUT_BYTES) throw new MlsError("mls.malformed", `${what}: too large`);
  let result: [T, number] | undefined;
  try {
    result = decoder(bytes, 0);
  } catch (cause) {
    throw new MlsError("mls.malformed", `${what}: does not decode`, { cause });
  }
  if (result === undefined) throw new MlsError("mls.malformed", `${what}: does not decode`);
  if (result[1] !== bytes.length) throw new MlsError("mls.malformed", `${what}: trailing bytes`);
  return result[0];
}
