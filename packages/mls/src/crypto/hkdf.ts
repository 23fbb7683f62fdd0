// HMAC-SHA256 and HKDF-SHA256 (RFC 5869) on node:crypto. HKDF-Expand is
// written on one HMAC per block rather than `hkdfSync`: MLS expands short
// outputs many times per message, and this measured about 4x cheaper
// (../shared/spec/mls-engine.md, "Crypto provider").
import { createHmac, hash } from "node:crypto";

export const HASH_LENGTH = 32;

// crypto.hash (one-shot, Node >= 20.12) skips the Hash object: about a
// third cheaper on the short inputs of tree hashing, 500+ per commit at 250.
export function sha256(data: Uint8Array): Uint8Array {
  return view(hash("sha256", data, "buffer"));
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return view(createHmac("sha256", key).update(data).digest());
}

// digest() allocates a Buffer of its own (not from the shared pool), so a
// plain Uint8Array view over it is safe and saves a copy per hash.
function view(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  // RFC 5869 2.2: an absent salt is HashLen zero bytes; HMAC pads an empty
  // key with zeros to the block size, which gives the same result.
  return hmacSha256(salt, ikm);
}

export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_LENGTH) {
    throw new RangeError("HKDF-Expand: output length out of range");
  }
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  let at = 0;
  for (let counter = 1; at < length; counter++) {
    const h = createHmac("sha256", prk);
    h.update(previous);
    h.update(info);
    h.update(Uint8Array.of(counter));
    previous = h.digest();
    out.set(previous.subarray(0, Math.min(HASH_LENGTH, length - at)), at);
    at += HASH_LENGTH;
  }
  return out;
}
