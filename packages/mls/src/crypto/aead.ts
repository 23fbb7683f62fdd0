// The AEADs on node:crypto (OpenSSL): ChaCha20-Poly1305 for suite 3, and
// AES-128-GCM for suite 1, which only the suite-1 tree-operations vectors
// use. Both with 16-byte tags and 12-byte nonces.
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from "node:crypto";
import { concat } from "./bytes.js";

export type AeadName = "CHACHA20POLY1305" | "AES128GCM";

const TAG_LENGTH = 16;
export const NONCE_LENGTH = 12;

export function aeadKeyLength(name: AeadName): number {
  return name === "CHACHA20POLY1305" ? 32 : 16;
}

function cipherName(name: AeadName): "chacha20-poly1305" | CipherGCMTypes {
  return name === "CHACHA20POLY1305" ? "chacha20-poly1305" : "aes-128-gcm";
}

export class AeadError extends Error {
  override readonly name = "AeadError";
}

function checkKeyAndNonce(name: AeadName, key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== aeadKeyLength(name) || nonce.length !== NONCE_LENGTH) {
    throw new AeadError("AEAD: wrong key or nonce length");
  }
}

export function aeadSeal(
  name: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  checkKeyAndNonce(name, key, nonce);
  const cipher = createCipheriv(cipherName(name) as "chacha20-poly1305", key, nonce, {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  const last = cipher.final();
  return concat(body, last, cipher.getAuthTag());
}

export function aeadOpen(
  name: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  checkKeyAndNonce(name, key, nonce);
  if (ciphertext.length < TAG_LENGTH) throw new AeadError("AEAD: ciphertext shorter than the tag");
  const bodyLength = ciphertext.length - TAG_LENGTH;
  const decipher = createDecipheriv(cipherName(name) as "chacha20-poly1305", key, nonce, {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAuthTag(ciphertext.subarray(bodyLength));
  decipher.setAAD(aad, { plaintextLength: bodyLength });
  const body = decipher.update(ciphertext.subarray(0, bodyLength));
  try {
    // final() is where the tag is checked; plaintext is released only after.
    const last = decipher.final();
    return concat(body, last);
  } catch (cause) {
    body.fill(0);
    throw new AeadError("AEAD: authentication failed", { cause });
  }
}
