// xmtp.mls.api.v1: the MlsApi service and its messages.
export * from "./gen/xmtp/mls/api/v1/mls_pb.js";
