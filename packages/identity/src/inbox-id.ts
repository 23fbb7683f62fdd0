// Inbox id derivation (../shared/spec/xmtp-node-api.md section 3.2; libxmtp
// member.rs `Identifier::inbox_id`): lowercase hex of SHA-256 over the
// identifier's text followed by the nonce in decimal. SHA-256, not SHA3.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { IdentityError } from "./identity-error.js";
import type { EthereumAddress, InboxId } from "./ids.js";
import { memberText, type Identifier } from "./member.js";

const maxNonce = 2n ** 64n - 1n;

/**
 * The inbox id an identifier owns at `nonce` (0 by default; the official
 * SDK registers new wallets with nonce 1).
 *
 * @throws IdentityError `identity.invalid_identifier` for a nonce outside u64
 */
export function deriveInboxId(identifier: Identifier | EthereumAddress, nonce: bigint = 0n): InboxId {
  if (nonce < 0n || nonce > maxNonce) {
    throw new IdentityError("identity.invalid_identifier", "nonce outside the u64 range");
  }
  const text = typeof identifier === "string" ? identifier : memberText(identifier);
  return bytesToHex(sha256(utf8ToBytes(`${text}${nonce.toString(10)}`))) as InboxId;
}
