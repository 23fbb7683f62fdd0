// xmtp.identity.associations (identity updates, signatures, association
// state) and xmtp.identity.MlsCredential.
export * from "./gen/xmtp/identity/associations/association_pb.js";
export * from "./gen/xmtp/identity/associations/signature_pb.js";
export * from "./gen/xmtp/identity/credential_pb.js";
