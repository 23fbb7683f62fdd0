// Branded identifiers of XMTP identity (../shared/spec/xmtp-node-api.md
// section 3.2): inbox ids, Ethereum addresses and installation keys. Only the
// functions here produce them, so a value of one of these types has been
// checked once, at the edge.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { IdentityError } from "./identity-error.js";

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** 64 lowercase hex digits: SHA-256 of an identifier and a nonce. */
export type InboxId = Brand<string, "InboxId">;
/** `0x` and 40 lowercase hex digits, the form XMTP hashes and recovers. */
export type EthereumAddress = Brand<string, "EthereumAddress">;
/** 64 lowercase hex digits: an installation's Ed25519 public key. */
export type InstallationKey = Brand<string, "InstallationKey">;

const inboxIdPattern = /^[0-9a-f]{64}$/;
const addressPattern = /^0x[0-9a-f]{40}$/;
const hexPattern = /^(?:[0-9a-f]{2})*$/;

export function isInboxId(value: string): value is InboxId {
  return inboxIdPattern.test(value);
}

/** @throws IdentityError `identity.invalid_identifier` */
export function assertInboxId(value: string): InboxId {
  if (!isInboxId(value)) throw new IdentityError("identity.invalid_identifier", "not an inbox id");
  return value;
}

/** True for the canonical (lowercase) form only: what arrives on the wire must already be in it. */
export function isEthereumAddress(value: string): value is EthereumAddress {
  return addressPattern.test(value);
}

/**
 * Checks an address given by a local caller and lowercases it, as libxmtp
 * sanitizes addresses before use. Untrusted wire data is never lowercased:
 * there a mixed-case address is refused, because its signer can't match.
 *
 * @throws IdentityError `identity.invalid_identifier`
 */
export function toEthereumAddress(value: string): EthereumAddress {
  const lower = value.toLowerCase();
  if (!isEthereumAddress(lower)) {
    throw new IdentityError("identity.invalid_identifier", "not a 0x-prefixed 20-byte address");
  }
  return lower;
}

/** @throws IdentityError `identity.invalid_identifier` unless `key` is 32 bytes */
export function installationKeyFromBytes(key: Uint8Array): InstallationKey {
  if (key.length !== 32) {
    throw new IdentityError("identity.invalid_identifier", `installation key of ${key.length} bytes`);
  }
  return toHex(key) as InstallationKey;
}

/** @throws IdentityError `identity.invalid_identifier` */
export function toInstallationKey(hex: string): InstallationKey {
  const lower = hex.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(lower)) {
    throw new IdentityError("identity.invalid_identifier", "not a 32-byte hex installation key");
  }
  return lower as InstallationKey;
}

export function installationKeyBytes(key: InstallationKey): Uint8Array {
  return fromHex(key);
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** @throws IdentityError `identity.invalid_identifier` for odd-length or non-hex input */
export function fromHex(hex: string): Uint8Array {
  if (!hexPattern.test(hex)) throw new IdentityError("identity.invalid_identifier", "not lowercase hex");
  return hexToBytes(hex);
}
