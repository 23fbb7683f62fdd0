// @parley/client: the XMTP client SDK, with the names and shapes of
// @xmtp/node-sdk. User-facing first.
export { Client, DEFAULT_NONCE, type ClientOptions, type InboxState } from "./client.js";
export { ApiUrls, type XmtpEnv } from "./api/api-urls.js";
export { DEFAULT_CALL_TIMEOUTS, READ_MAX_BYTES, type CallTimeouts } from "./api/api-client.js";
export { Conversations, type CreateGroupOptions } from "./conversations/conversations.js";
export { ConversationType, type ListConversationsOptions } from "./conversations/conversation-list.js";
export { Conversation, type GroupMemberInfo } from "./conversations/conversation.js";
export type { ConversationDebugInfo } from "./conversations/debug-info.js";
export { Group } from "./conversations/group.js";
export { Dm } from "./conversations/dm.js";
export type { DecodedMessage, ListMessagesOptions } from "./conversations/decoded-message.js";
export { MAX_INPUT_ATTEMPTS, type RefusalCode } from "./incoming/incoming-failure.js";
export type { ClonedInstallationListener, ClonedInstallationReport, CloneEvidence } from "./identity/clone-reporter.js";
export { ContentTypeText } from "./content/text-codec.js";
export { ContentTypeReaction, ReactionAction, ReactionSchema, type Reaction } from "./content/reaction-codec.js";
export { ContentTypeReply, type Reply } from "./content/reply-codec.js";
export { contentTypeToString, type ContentTypeId, type EncodedContentInput, type SendOptions } from "./content/encoded-content.js";
export {
  ContentTypeGroupUpdated,
  GroupMessageKind,
  type GroupUpdated,
  type GroupUpdatedInbox,
  type MetadataFieldChange,
} from "./content/group-updated-codec.js";
export type { AsyncStream } from "./streams/async-stream.js";
export {
  GroupPermissionsOptions,
  MetadataField,
  PermissionPolicy,
  PermissionUpdateType,
  type GroupPermissions,
  type PermissionPolicySet,
} from "./conversations/group-permissions.js";
export { PROTOCOL_VERSION } from "./conversations/protocol-version.js";
export { ClientError, isClientError, type ClientErrorCode } from "./client-error.js";
export type { ClientLogger, SecurityCode } from "./logging.js";
