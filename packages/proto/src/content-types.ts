// xmtp.mls.message_contents.content_types: protobuf payloads of standard
// content types.
export * from "./gen/xmtp/mls/message_contents/content_types/delete_message_pb.js";
export * from "./gen/xmtp/mls/message_contents/content_types/leave_request_pb.js";
export * from "./gen/xmtp/mls/message_contents/content_types/multi_remote_attachment_pb.js";
export * from "./gen/xmtp/mls/message_contents/content_types/reaction_pb.js";
