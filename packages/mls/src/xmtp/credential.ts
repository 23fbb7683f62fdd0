// XMTP's credential (spec xmtp-client.md 1.3, 0 item 2): a BasicCredential
// whose identity is the protobuf `xmtp.identity.MlsCredential{inbox_id}`;
// the leaf's signature key is the 32-byte Ed25519 installation key.
import {
  associations,
  decode,
  encode,
  INSTALLATION_KEY_BYTES,
  isInboxId,
  isInstallationKey,
  type InboxId,
  type InstallationKey,
} from "@parley/proto";
import type { Credential } from "ts-mls";
import { defaultCredentialTypes } from "../engine/ts-mls.js";
import { MlsError } from "../mls-error.js";

// The shared ids (@parley/proto), under the names this package has always
// exported them by.
export { asInboxId, asInstallationKey, type InboxId, type InstallationKey } from "@parley/proto";

/** Far above a real MlsCredential (66 bytes); refused before it is decoded. */
const MAX_IDENTITY_BYTES = 1024;

export function xmtpCredential(inboxId: InboxId): Credential {
  const identity = encode(associations.MlsCredentialSchema, {
    $typeName: "xmtp.identity.MlsCredential",
    inboxId,
  });
  return { credentialType: defaultCredentialTypes.basic, identity };
}

/**
 * The inbox id in a leaf's credential.
 *
 * @throws MlsError `mls.bad_key_package` when the credential is not Basic or
 *   its identity is not an MlsCredential whose inbox id is 64 lowercase hex
 *   digits (what every inbox id is: xmtp-node-api.md section 3.2).
 */
export function inboxIdOfCredential(credential: Credential): InboxId {
  if (credential.credentialType !== defaultCredentialTypes.basic || !("identity" in credential)) {
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
  if (!isInboxId(inboxId)) throw new MlsError("mls.bad_key_package", "credential's inbox id is not 64 lowercase hex digits");
  return inboxId;
}

/**
 * The installation key of a leaf, checked for length.
 *
 * @throws MlsError `mls.bad_key_package` unless the key is 32 bytes.
 */
export function installationKeyOfLeaf(signaturePublicKey: Uint8Array): InstallationKey {
  if (!isInstallationKey(signaturePublicKey)) {
    throw new MlsError("mls.bad_key_package", `leaf signature key is not a ${INSTALLATION_KEY_BYTES}-byte Ed25519 key`);
  }
  return signaturePublicKey;
}
