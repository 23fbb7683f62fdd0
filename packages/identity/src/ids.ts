// Identifiers of XMTP identity (../shared/spec/xmtp-node-api.md sections
// 1.3 and 3.2). The inbox id and the installation key and id are the ones
// every package shares (@parley/proto's ids.ts), re-exported here; the
// Ethereum address is identity's own. The functions here check what
// identity takes in and refuse with IdentityError, so a value of one of
// these types has been checked once, at the edge.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  installationIdOf,
  installationKeyOf,
  isInboxId,
  isInstallationId,
  isInstallationKey,
  type InboxId,
  type InstallationId,
  type InstallationKey,
} from "@parley/proto";
import { IdentityError } from "./identity-error.js";

export { isInboxId, type InboxId, type InstallationId, type InstallationKey } from "@parley/proto";

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** `0x` and 40 lowercase hex digits, the form XMTP hashes and recovers. */
export type EthereumAddress = Brand<string, "EthereumAddress">;

const addressPattern = /^0x[0-9a-f]{40}$/;
const hexPattern = /^(?:[0-9a-f]{2})*$/;

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

/**
 * The installation id of an installation key from the wire or a local key pair.
 *
 * @throws IdentityError `identity.invalid_identifier` unless `key` is 32 bytes
 */
export function installationIdFromKey(key: Uint8Array): InstallationId {
  if (!isInstallationKey(key)) {
    throw new IdentityError("identity.invalid_identifier", `installation key of ${key.length} bytes`);
  }
  return installationIdOf(key);
}

/**
 * Checks an installation id given by a local caller, lowercased first (the
 * official SDK prints lowercase; a person may not).
 *
 * @throws IdentityError `identity.invalid_identifier`
 */
export function toInstallationId(hex: string): InstallationId {
  const lower = hex.toLowerCase();
  if (!isInstallationId(lower)) {
    throw new IdentityError("identity.invalid_identifier", "not a 32-byte hex installation key");
  }
  return lower;
}

/** The key an installation id spells, as bytes (what the wire carries). */
export function installationKeyBytes(id: InstallationId): InstallationKey {
  return installationKeyOf(id);
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** @throws IdentityError `identity.invalid_identifier` for odd-length or non-hex input */
export function fromHex(hex: string): Uint8Array {
  if (!hexPattern.test(hex)) throw new IdentityError("identity.invalid_identifier", "not lowercase hex");
  return hexToBytes(hex);
}
