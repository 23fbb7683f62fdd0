// xmtp.mls.message_contents and its content_types: what travels inside MLS
// (group context extensions, envelopes, content payloads) and the welcome
// wrapping enums the API refers to.
export * from "./gen/xmtp/mls/message_contents/commit_log_pb.js";
export * from "./gen/xmtp/mls/message_contents/content_pb.js";
export * from "./gen/xmtp/mls/message_contents/group_membership_pb.js";
export * from "./gen/xmtp/mls/message_contents/group_metadata_pb.js";
export * from "./gen/xmtp/mls/message_contents/group_mutable_metadata_pb.js";
export * from "./gen/xmtp/mls/message_contents/group_permissions_pb.js";
export * from "./gen/xmtp/mls/message_contents/oneshot_pb.js";
export * from "./gen/xmtp/mls/message_contents/transcript_messages_pb.js";
export * from "./gen/xmtp/mls/message_contents/welcome_pointer_pb.js";
export * from "./gen/xmtp/mls/message_contents/wrapper_encryption_pb.js";
