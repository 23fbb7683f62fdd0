// Ethereum wallet signatures (../shared/spec/xmtp-node-api.md section 3.3,
// `erc_191`): EIP-191 personal_sign over secp256k1, the signer found by
// public-key recovery, its address the last 20 bytes of keccak-256 of the
// uncompressed key.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { IdentityError } from "../identity-error.js";
import type { EthereumAddress } from "../ids.js";

/** r ‖ s ‖ v: 32 + 32 + 1 bytes. */
const SIGNATURE_BYTES = 65;
/** Ethereum writes the recovery id 0 or 1 as v = 27 or 28 (Yellow Paper appendix F). */
const V_OFFSET = 27;
/** An address is the last 20 bytes of the key's keccak-256. */
const ADDRESS_BYTES = 20;

/** keccak-256 of "\x19Ethereum Signed Message:\n" ‖ byte length ‖ text. */
export function personalMessageHash(text: string): Uint8Array {
  const message = utf8ToBytes(text);
  const prefix = utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`);
  return keccak_256(concatBytes(prefix, message));
}

export function addressOfPublicKey(publicKey: Uint8Array): EthereumAddress {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return `0x${bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(-ADDRESS_BYTES))}` as EthereumAddress;
}

export interface RecoveredWallet {
  readonly address: EthereumAddress;
  /**
   * The signature as recorded against replay: r ‖ s ‖ v with v written as
   * 27 or 28 whatever form it came in, so that the same signature with v
   * rewritten (0 for 27) is still a replay. libxmtp records v as sent.
   */
  readonly normalized: Uint8Array;
}

/**
 * Recovers the address that signed `text` with a 65-byte r ‖ s ‖ v
 * signature (v of 0, 1, 27 or 28).
 *
 * A high-S signature is refused. libxmtp lowers S but keeps v, which then
 * recovers some other key, so no high-S signature is valid there either;
 * refusing it outright keeps the malleated twin of a signature from being
 * anything but an error.
 *
 * @throws IdentityError `identity.bad_signature`
 */
export function recoverPersonalSigner(text: string, signature: Uint8Array): RecoveredWallet {
  if (signature.length !== SIGNATURE_BYTES) {
    throw new IdentityError("identity.bad_signature", `ECDSA signature of ${signature.length} bytes, not ${SIGNATURE_BYTES}`);
  }
  const v = signature[SIGNATURE_BYTES - 1] ?? 0;
  const recovery = v >= V_OFFSET ? v - V_OFFSET : v;
  if (recovery !== 0 && recovery !== 1) {
    throw new IdentityError("identity.bad_signature", "ECDSA recovery byte out of range");
  }
  let address: EthereumAddress;
  try {
    const parsed = secp256k1.Signature.fromBytes(signature.subarray(0, SIGNATURE_BYTES - 1), "compact");
    if (parsed.hasHighS()) {
      throw new IdentityError("identity.bad_signature", "ECDSA signature with high S");
    }
    const point = parsed.addRecoveryBit(recovery).recoverPublicKey(personalMessageHash(text));
    address = addressOfPublicKey(point.toBytes(false));
  } catch (cause) {
    if (cause instanceof IdentityError) throw cause;
    throw new IdentityError("identity.bad_signature", "ECDSA signature does not recover a key", { cause });
  }
  const normalized = signature.slice();
  normalized[SIGNATURE_BYTES - 1] = V_OFFSET + recovery;
  return { address, normalized };
}

/** Signs `text` as personal_sign does; v is written as 27 or 28, as wallets do. */
export function signPersonalMessage(text: string, secretKey: Uint8Array): Uint8Array {
  const recovered = secp256k1.sign(personalMessageHash(text), secretKey, {
    prehash: false,
    format: "recovered",
  });
  // noble puts the recovery bit first; Ethereum wants it last.
  const signature = new Uint8Array(SIGNATURE_BYTES);
  signature.set(recovered.subarray(1), 0);
  signature[SIGNATURE_BYTES - 1] = V_OFFSET + (recovered[0] ?? 0);
  return signature;
}

export function addressOfSecretKey(secretKey: Uint8Array): EthereumAddress {
  return addressOfPublicKey(secp256k1.getPublicKey(secretKey, false));
}
