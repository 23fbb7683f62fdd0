// A throwaway Ethereum wallet for driving the official client in tests:
// EIP-191 personal_sign over secp256k1, keccak-256 addresses.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { IdentifierKind, Signer } from "@xmtp/node-sdk";

export interface TestWallet {
  readonly address: string;
  /** Every text the wallet was asked to sign, in order. */
  readonly signedTexts: string[];
  signMessage(text: string): Uint8Array;
}

export function createTestWallet(secretKey: Uint8Array = secp256k1.utils.randomSecretKey()): TestWallet {
  const publicKey = secp256k1.getPublicKey(secretKey, false);
  const address = `0x${bytesToHex(keccak_256(publicKey.subarray(1)).subarray(-20))}`;
  const signedTexts: string[] = [];
  return {
    address,
    signedTexts,
    signMessage(text) {
      signedTexts.push(text);
      const message = new TextEncoder().encode(text);
      const prefix = new TextEncoder().encode(`\x19Ethereum Signed Message:\n${message.length}`);
      const digest = keccak_256(new Uint8Array([...prefix, ...message]));
      const recovered = secp256k1.sign(digest, secretKey, { prehash: false, format: "recovered" });
      // noble puts the recovery id first; Ethereum wants r ‖ s ‖ (27 + id).
      const signature = new Uint8Array(65);
      signature.set(recovered.subarray(1), 0);
      signature[64] = 27 + (recovered[0] ?? 0);
      return signature;
    },
  };
}

/**
 * The wallet as the official SDK's EOA signer. IdentifierKind is a const
 * enum in its typings with no runtime object, so its value is written here.
 */
export function officialSigner(wallet: TestWallet): Signer {
  const ethereum = 0 as IdentifierKind; // IdentifierKind.Ethereum
  return {
    type: "EOA",
    getIdentifier: () => ({ identifier: wallet.address, identifierKind: ethereum }),
    signMessage: (text: string) => Promise.resolve(wallet.signMessage(text)),
  };
}
