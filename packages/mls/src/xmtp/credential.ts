// XMTP's credential (spec xmtp-client.md 1.3, 0 item 2): a BasicCredential
// whose identity is the protobuf `xmtp.identity.MlsCredential{inbox_id}`;
// the leaf's signature key is the 32-byte Ed25519 installation key.
import { associations, decode, encode } from "@parley/proto";
import type { Credential } from "ts-mls";
import { MlsError } from "../mls-error.js";

declare const inboxIdBrand: unique symbol;
declare const installationKeyBrand: unique symbol;
/** An XMTP inbox id (hex string) as carried in a credential. */
export type InboxId = string & { readonly [inboxIdBrand]: true };
/** An installation's Ed25519 public key: the leaf signature key and the installation id. */
export type InstallationKey = Uint8Array & { readonly [installationKeyBrand]: true };

const BASIC = 1;
const INSTALLATION_KEY_LENGTH = 32;
/** Far above any real inbox id (64 hex chars); stops absurd identities early. */
const MAX_IDENTITY_BYTES = 1024;

export function asInboxId(value: string): InboxId {
  if (value.length === 0 || value.length > MAX_IDENTITY_BYTES) {
    throw new MlsError("mls.usage", "inbox id must be 1 to 1024 characters");
  }
  return value as InboxId;
}

/** @throws MlsError `mls.usage` when the key is not 32 bytes. */
export function asInstallationKey(value: Uint8Array): InstallationKey {
  if (value.length !== INSTALLATION_KEY_LENGTH) {
    throw new MlsError("mls.usage", "an installation key is 32 bytes");
  }
  return value as InstallationKey;
}

export function xmtpCredential(inboxId: InboxId): Credential {
  const identity = encode(associations.MlsCredentialSchema, {
    $typeName: "xmtp.identity.MlsCredential",
    inboxId,
  });
  return { credentialType: BASIC, identity };
}

/**
 * The inbox id in a leaf's credential.
 *
 * @throws MlsError `mls.bad_key_package` when the credential is not Basic or
 *   its identity is not an MlsCredential with a non-empty inbox id.
 */
export function inboxIdOfCredential(credential: Credential): InboxId {
  if (credential.credentialType !== BASIC || !("identity" in credential)) {
    throw new MlsError("mls.bad_key_package", "credential is not a Basic credential");
  }
  if (credential.identity.length > MAX_IDENTITY_BYTES) {
    throw new MlsError("mls.bad_key_package", "credential identity is too long");
  }
  let inboxId: string;
  try {
    inboxId = decode(associations.MlsCredentialSchema, credential.identity).inboxId;
  } catch (cause) {
    throw new MlsError("mls.bad_key_package", "credential identity is not an MlsCredential", { cause });
  }
  if (inboxId.length === 0) throw new MlsError("mls.bad_key_package", "credential has an empty inbox id");
  return inboxId as InboxId;
}

/** The installation key of a leaf, checked for length. */
export function installationKeyOfLeaf(signaturePublicKey: Uint8Array): InstallationKey {
  if (signaturePublicKey.length !== INSTALLATION_KEY_LENGTH) {
    throw new MlsError("mls.bad_key_package", "leaf signature key is not a 32-byte Ed25519 key");
  }
  return signaturePublicKey as InstallationKey;
}
