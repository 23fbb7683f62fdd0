// xmtp.identity.api.v1: the IdentityApi service and its messages.
export * from "./gen/xmtp/identity/api/v1/identity_pb.js";
