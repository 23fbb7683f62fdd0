// @parley/mls: MLS (RFC 9420) for ciphersuite 3 on ts-mls, configured as
// XMTP configures it. The client's operations first, then what the node
// needs (no secrets), then the profile and the provider.

// Groups: state in, new state out.
export { createGroup, type CreateGroupParams } from "./group/create-group.js";
export {
  updateMembership,
  updateGroupExtensions,
  selfUpdate,
  type CommitResult,
  type MembershipChange,
} from "./group/commit.js";
export { processMessage, type ProcessResult } from "./group/process-message.js";
export { joinFromWelcome, type JoinParams, type JoinResult } from "./group/join.js";
export { encryptMessage, type EncryptResult } from "./group/application.js";
export { eraseConsumed, type Consumed } from "./group/consumed.js";
export { mergeOwnCommit } from "./group/merge-commit.js";
export { messageSenderData, type SenderData } from "./group/sender-data.js";
export {
  groupMembers,
  isRemoved,
  ownLeafIndex,
  ownInstallationKey,
  epochAuthenticator,
  type GroupState,
  type GroupMember,
} from "./group/group-state.js";
export { groupExtensions } from "./group/group-extensions-of.js";
export { ratchetSecretsOf, storedRatchetsOf, type StoredRatchet } from "./group/ratchet-secrets.js";
export { encodeGroupState, decodeGroupState, STATE_VERSION } from "./state-codec.js";

// Key packages and Welcomes.
export {
  createKeyPackage,
  validateKeyPackage,
  type InstallationSigner,
  type KeyPackageBundle,
  type CreateKeyPackageOptions,
  type ValidatedKeyPackage,
  type ValidateKeyPackageOptions,
} from "./key-package.js";
export { nodePrivateKeysOf, privateInitKey } from "./group/private-keys.js";
export {
  wrapWelcome,
  unwrapWelcome,
  WELCOME_WRAP_INFO,
  type WrappedWelcome,
  type UnwrappedWelcome,
} from "./welcome-wrap.js";

// The node's view: framing only.
export { parseFraming, type MessageFraming, type ContentKind } from "./framing.js";

// Identity in MLS, authentication, errors.
export {
  asInboxId,
  asInstallationKey,
  type InboxId,
  type InstallationKey,
} from "./xmtp/credential.js";
export type { AuthenticateMember, MemberIdentity } from "./authentication.js";
export { MlsError, isMlsError, type MlsErrorCode } from "./mls-error.js";

// XMTP's profile.
export type { XmtpGroupExtensions, XmtpExtensionChanges } from "./xmtp/group-extensions.js";
export {
  CIPHERSUITE,
  ExtensionId,
  KEY_PACKAGE_LIFETIME_SECONDS,
  MAX_GROUP_INBOXES,
  MAX_PAST_EPOCHS,
  OUT_OF_ORDER_TOLERANCE,
  MAXIMUM_FORWARD_DISTANCE,
  xmtpClientConfig,
} from "./xmtp/profile.js";

// Cryptography for the rest of Parley (Ed25519 installation keys).
export { ed25519Keygen, ed25519PublicKey, ed25519Sign, ed25519Verify } from "./crypto/signature.js";
export { nodeCryptoProvider } from "./crypto/provider.js";

// The engine itself, mended and verified, for benchmarks and tools that drive
// ts-mls directly (importing ts-mls before this package makes it refuse to start).
export { engine as tsMls } from "./engine/ts-mls.js";
export { ENGINE_PACKAGE, ENGINE_VERSION } from "./engine/mends.js";
