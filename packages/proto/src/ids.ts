// The identifiers every Parley package shares, as branded types: a value of
// one of them has been checked here once, and the compiler keeps unchecked
// strings and bytes out. One definition, so that an inbox id from
// @parley/mls is the same type as one from @parley/identity.
//
// - Inbox id (../shared/spec/xmtp-node-api.md section 3.2): lowercase hex of
//   a SHA-256 digest, so exactly 64 characters of [0-9a-f]. libxmtp writes it
//   with `hex::encode`, always lowercase; the reference node hex-decodes it in
//   SQL (section 2.2), so anything else is refused there too.
// - Installation key (xmtp-node-api.md section 1.3, xmtp-client.md 1.3): the
//   installation's raw 32-byte Ed25519 public key. It is the MLS leaf's
//   signature key, the identity log's `installation_public_key` and the
//   welcome topic.
// - Installation id: the same key as lowercase hex, the form APIs show
//   ("the installation id is the raw 32-byte public key (hex in APIs)",
//   xmtp-client.md 1.3; `installationId` in @xmtp/node-sdk).
import { ProtoError } from "./proto-error.js";

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** 64 lowercase hex digits: SHA-256 of an identifier and a nonce. */
export type InboxId = Brand<string, "InboxId">;
/** An installation's 32-byte Ed25519 public key, as bytes. */
export type InstallationKey = Brand<Uint8Array, "InstallationKey">;
/** An installation key as 64 lowercase hex digits. */
export type InstallationId = Brand<string, "InstallationId">;

/** Bytes of a SHA-256 digest: an inbox id is their hex. */
export const INBOX_ID_BYTES = 32;
/** Bytes of an Ed25519 public key (RFC 8032 section 5.1.5). */
export const INSTALLATION_KEY_BYTES = 32;

const inboxIdPattern = new RegExp(`^[0-9a-f]{${INBOX_ID_BYTES * 2}}$`);
const installationIdPattern = new RegExp(`^[0-9a-f]{${INSTALLATION_KEY_BYTES * 2}}$`);

export function isInboxId(value: string): value is InboxId {
  return inboxIdPattern.test(value);
}

/** @throws ProtoError `proto.invalid_id` unless `value` is 64 lowercase hex digits. */
export function asInboxId(value: string): InboxId {
  if (!isInboxId(value)) throw new ProtoError("proto.invalid_id", "an inbox id is 64 lowercase hex digits");
  return value;
}

export function isInstallationKey(value: Uint8Array): value is InstallationKey {
  return value.length === INSTALLATION_KEY_BYTES;
}

/**
 * The bytes themselves, typed; no copy is made.
 *
 * @throws ProtoError `proto.invalid_id` unless `value` is 32 bytes.
 */
export function asInstallationKey(value: Uint8Array): InstallationKey {
  if (!isInstallationKey(value)) {
    throw new ProtoError("proto.invalid_id", `an installation key is ${INSTALLATION_KEY_BYTES} bytes, not ${value.length}`);
  }
  return value;
}

export function isInstallationId(value: string): value is InstallationId {
  return installationIdPattern.test(value);
}

/**
 * Lowercase only: an id is compared as a string, so only one spelling of a
 * key may exist. Callers that take ids typed by people lowercase first.
 *
 * @throws ProtoError `proto.invalid_id` unless `value` is 64 lowercase hex digits.
 */
export function asInstallationId(value: string): InstallationId {
  if (!isInstallationId(value)) {
    throw new ProtoError("proto.invalid_id", "an installation id is 64 lowercase hex digits");
  }
  return value;
}

const hexDigits = "0123456789abcdef";

/** @throws ProtoError `proto.invalid_id` unless `key` is 32 bytes. */
export function installationIdOf(key: Uint8Array): InstallationId {
  let hex = "";
  for (const byte of asInstallationKey(key)) hex += (hexDigits[byte >> 4] ?? "") + (hexDigits[byte & 0x0f] ?? "");
  return hex as InstallationId;
}

/** The key an installation id spells, as new bytes. */
export function installationKeyOf(id: InstallationId): InstallationKey {
  // Checked again: a cast elsewhere must not turn into garbage bytes here.
  const checked = asInstallationId(id);
  const key = new Uint8Array(INSTALLATION_KEY_BYTES);
  for (let i = 0; i < key.length; i++) key[i] = Number.parseInt(checked.slice(2 * i, 2 * i + 2), 16);
  return key as InstallationKey;
}
