// The two pieces of RFC 9420 TLS presentation language we handle ourselves:
// the variable-length integer prefix (section 2.1.2) and the labelled
// signature content (section 5.1.2). Everything else is ts-mls's codec.
import { concat, utf8 } from "./crypto/bytes.js";

/** RFC 9420 2.1.2 variable-length vector header. */
export function encodeVarint(n: number): Uint8Array {
  if (n < 0x40) return Uint8Array.of(n);
  if (n < 0x4000) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  if (n < 0x40000000) return Uint8Array.of(0x80 | (n >>> 24), (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  throw new RangeError("varint: too large");
}

/**
 * Reads a varint at `offset`: [value, bytes used], or undefined when
 * truncated, non-minimal, or the reserved 0b11 prefix.
 */
export function decodeVarint(bytes: Uint8Array, offset: number): [number, number] | undefined {
  const first = bytes[offset];
  if (first === undefined) return undefined;
  const prefix = first >> 6;
  if (prefix === 3) return undefined;
  const size = 1 << prefix;
  if (offset + size > bytes.length) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + bytes[offset + i]!;
  // RFC 9420 requires the minimum encoding.
  if ((size === 2 && value < 0x40) || (size === 4 && value < 0x4000)) return undefined;
  return [value, size];
}

export function vector(bytes: Uint8Array): Uint8Array {
  return concat(encodeVarint(bytes.length), bytes);
}

/** SignContent (RFC 9420 5.1.2): label<V> = "MLS 1.0 " + label, content<V>. */
export function signContent(label: string, content: Uint8Array): Uint8Array {
  return concat(vector(utf8(`MLS 1.0 ${label}`)), vector(content));
}
