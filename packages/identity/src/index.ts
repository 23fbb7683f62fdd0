// @parley/identity: XMTP identity as the network knows it
// (../shared/spec/xmtp-node-api.md sections 2-3, xmtp-client.md section 6):
// inbox ids, identity updates and their signatures, and the association
// state replayed from an inbox's log. No I/O, no clock, no global state.

// Ids and members
// InboxId, InstallationKey (bytes) and InstallationId (hex) are the types
// every package shares, from @parley/proto.
export {
  type InboxId,
  type EthereumAddress,
  type InstallationKey,
  type InstallationId,
  isInboxId,
  assertInboxId,
  isEthereumAddress,
  toEthereumAddress,
  toInstallationId,
  installationIdFromKey,
  installationKeyBytes,
} from "./ids.js";
export {
  type MemberIdentifier,
  type Identifier,
  type MemberKind,
  type EthereumMember,
  type InstallationMember,
  type PasskeyMember,
  ethereumMember,
  installationMember,
  passkeyMember,
  memberKey,
  memberText,
  sameMember,
} from "./member.js";
export { deriveInboxId } from "./inbox-id.js";

// Building and signing updates
export {
  type ActionRequest,
  type SignatureRequest,
  type SignatureRequestInit,
  createSignatureRequest,
  memberIdentifierMessage,
} from "./update/signature-request.js";
export {
  IdentifierKind,
  type Signer,
  type EOASigner,
  type SCWSigner,
  type SignerIdentifier,
  createPrivateKeySigner,
  signerIdentifier,
} from "./update/signer.js";
export {
  type UnsignedAction,
  type UnsignedIdentityUpdate,
  signatureText,
  formatTimestamp,
} from "./update/signature-text.js";

// Validating and replaying
export {
  type UnverifiedIdentityUpdate,
  type UnverifiedAction,
  type UnverifiedSignature,
  decodeIdentityUpdate,
  fromIdentityUpdateProto,
} from "./update/unverified-identity-update.js";
export {
  type VerifiedIdentityUpdate,
  type VerifiedAction,
  type VerifiedSignature,
  type SignatureKind,
  type VerifyOptions,
  verifyIdentityUpdate,
  verifySignature,
} from "./update/verify-identity-update.js";
export { maxActionsPerUpdate, maxSignaturesPerUpdate } from "./update/update-caps.js";
export { createPasskeyVerifier } from "./crypto/passkey.js";
export type {
  Verifiers,
  SmartContractWalletVerifier,
  SmartContractWalletRequest,
  PasskeyVerifier,
  PasskeyRequest,
} from "./update/verifiers.js";
export {
  type AssociationState,
  type AssociationStateDiff,
  type Member,
  getMember,
  isMember,
  listMembers,
  listInstallations,
  listIdentifiers,
  diffStates,
} from "./state/association-state.js";
export { type ApplyOptions, applyIdentityUpdate } from "./state/apply-identity-update.js";
export { maxIdentityUpdates, maxUpdatesWithoutRecovery, recoveryReservedUpdates } from "./state/recovery-reserve.js";
export {
  type IdentityUpdateLogEntry,
  type ValidateOptions,
  validateIdentityUpdate,
  readLogEntry,
  replayInbox,
} from "./state/replay-inbox.js";

// Signature primitives
export {
  personalMessageHash,
  recoverPersonalSigner,
  signPersonalMessage,
  addressOfSecretKey,
} from "./crypto/ethereum.js";
export {
  installationKeySignatureContext,
  signWithInstallationKey,
  verifyInstallationSignature,
  installationPublicKey,
  generateInstallationSecretKey,
} from "./crypto/installation-key.js";

// Errors
export {
  IdentityError,
  isIdentityError,
  type IdentityErrorCode,
  type IdentityResult,
} from "./identity-error.js";
