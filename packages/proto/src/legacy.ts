// xmtp.message_contents: XMTP V2 keys and signatures that V3 still refers to.
export * from "./gen/xmtp/message_contents/public_key_pb.js";
export * from "./gen/xmtp/message_contents/signature_pb.js";
