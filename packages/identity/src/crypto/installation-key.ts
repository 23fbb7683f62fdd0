// Installation-key signatures (../shared/spec/xmtp-node-api.md section 3.3,
// `installation_key`): Ed25519ph (RFC 8032 section 5.1, SHA-512 pre-hash)
// with the context "IDENTITY UPDATE SIGNATURE", as libxmtp's
// `InstallationKeyContext`. node:crypto on Node 20 has no Ed25519ph, hence
// @noble/curves.
import { ed25519ph } from "@noble/curves/ed25519.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { INSTALLATION_KEY_BYTES } from "@parley/proto";
import { IdentityError } from "../identity-error.js";

/** RFC 8032 section 5.1.6: R ‖ S. */
const ED25519_SIGNATURE_BYTES = 64;

/** DO NOT CHANGE: every installation signature on the network uses it. */
export const installationKeySignatureContext = utf8ToBytes("IDENTITY UPDATE SIGNATURE");

/**
 * Verifies strictly (canonical encodings, RFC 8032), where ed25519-dalek's
 * `verify_prehashed` is used by libxmtp; the two differ only on crafted
 * non-canonical points, which no honest signer produces.
 *
 * @throws IdentityError `identity.bad_signature`
 */
export function verifyInstallationSignature(
  text: string,
  signature: Uint8Array,
  publicKey: Uint8Array,
): void {
  if (signature.length !== ED25519_SIGNATURE_BYTES || publicKey.length !== INSTALLATION_KEY_BYTES) {
    throw new IdentityError("identity.bad_signature", "Ed25519 signature or key of the wrong length");
  }
  let valid: boolean;
  try {
    valid = ed25519ph.verify(signature, utf8ToBytes(text), publicKey, {
      context: installationKeySignatureContext,
      zip215: false,
    });
  } catch (cause) {
    throw new IdentityError("identity.bad_signature", "Ed25519 public key or signature does not decode", { cause });
  }
  if (!valid) throw new IdentityError("identity.bad_signature", "installation signature does not verify");
}

export function signWithInstallationKey(text: string, secretKey: Uint8Array): Uint8Array {
  return ed25519ph.sign(utf8ToBytes(text), secretKey, { context: installationKeySignatureContext });
}

export function installationPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519ph.getPublicKey(secretKey);
}

export function generateInstallationSecretKey(): Uint8Array {
  return ed25519ph.utils.randomSecretKey();
}
