// Ed25519 (RFC 8032) on node:crypto for ts-mls's `Signature`. Private keys
// are the 32-byte seed, as XMTP's installation keys are; ts-mls's own
// default provider makes 48-byte PKCS#8 keys, which are accepted too.
import { createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import type { Signature } from "ts-mls";
import { lift, plain } from "./bytes.js";
import { exportRawPrivate, exportRawPublic, importPrivate, importPublic, rememberPrivate } from "./okp-keys.js";

/** RFC 8032 section 5.1.6: R ‖ S. */
export const ED25519_SIGNATURE_LENGTH = 64;
/** RFC 8032 section 5.1.5: the private key is a 32-byte seed. */
export const ED25519_SEED_LENGTH = 32;

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return plain(sign(null, message, importPrivate("ed25519", seed)));
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  try {
    return verify(null, message, importPublic("ed25519", publicKey), signature);
  } catch {
    // A public key that does not import cannot have made the signature.
    return false;
  }
}

export function ed25519Keygen(): { publicKey: Uint8Array; signKey: Uint8Array } {
  const kp = generateKeyPairSync("ed25519");
  const signKey = exportRawPrivate(kp.privateKey);
  rememberPrivate("ed25519", signKey, kp.privateKey);
  return { publicKey: exportRawPublic(kp.publicKey), signKey };
}

/** The public key of a 32-byte Ed25519 seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return exportRawPublic(createPublicKey(importPrivate("ed25519", seed)));
}

export const nodeEd25519: Signature = {
  sign(signKey, message) {
    return lift(() => {
      return ed25519Sign(signKey, message);
    });
  },
  verify(publicKey, message, signature) {
    return lift(() => {
      return ed25519Verify(publicKey, message, signature);
    });
  },
  keygen() {
    return lift(() => {
      return ed25519Keygen();
    });
  },
};
