// @parley/proto: the XMTP V3 wire protocol. One namespace per protobuf
// package, a decoder that turns malformed bytes into typed errors, and the
// identifiers every package shares.
export * as mlsApi from "./mls-api.js";
export * as identityApi from "./identity-api.js";
export * as associations from "./associations.js";
export * as messageContents from "./message-contents.js";
export * as contentTypes from "./content-types.js";
export * as legacy from "./legacy.js";
export * as health from "./health.js";
export { decode, encode, type DecodeOptions } from "./codec.js";
export {
  asInboxId,
  asInstallationId,
  asInstallationKey,
  installationIdOf,
  installationKeyOf,
  isInboxId,
  isInstallationId,
  isInstallationKey,
  INBOX_ID_BYTES,
  INSTALLATION_KEY_BYTES,
  type InboxId,
  type InstallationId,
  type InstallationKey,
} from "./ids.js";
export { SubscribeTopicKind } from "./topics.js";
export { ProtoError, isProtoError, type ProtoErrorCode } from "./proto-error.js";
export { allFiles } from "./registry.js";
