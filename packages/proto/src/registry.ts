// Every generated file descriptor, for code that walks the whole protocol
// (a type registry for JSON, the round-trip tests).
import type { DescFile } from "@bufbuild/protobuf";
import { file_grpc_health_v1_health } from "./gen/grpc/health/v1/health_pb.js";
import { file_xmtp_identity_api_v1_identity } from "./gen/xmtp/identity/api/v1/identity_pb.js";
import { file_xmtp_identity_associations_association } from "./gen/xmtp/identity/associations/association_pb.js";
import { file_xmtp_identity_associations_signature } from "./gen/xmtp/identity/associations/signature_pb.js";
import { file_xmtp_identity_credential } from "./gen/xmtp/identity/credential_pb.js";
import { file_xmtp_message_contents_public_key } from "./gen/xmtp/message_contents/public_key_pb.js";
import { file_xmtp_message_contents_signature } from "./gen/xmtp/message_contents/signature_pb.js";
import { file_xmtp_mls_api_v1_mls } from "./gen/xmtp/mls/api/v1/mls_pb.js";
import { file_xmtp_mls_message_contents_commit_log } from "./gen/xmtp/mls/message_contents/commit_log_pb.js";
import { file_xmtp_mls_message_contents_content } from "./gen/xmtp/mls/message_contents/content_pb.js";
import { file_xmtp_mls_message_contents_content_types_delete_message } from "./gen/xmtp/mls/message_contents/content_types/delete_message_pb.js";
import { file_xmtp_mls_message_contents_content_types_leave_request } from "./gen/xmtp/mls/message_contents/content_types/leave_request_pb.js";
import { file_xmtp_mls_message_contents_content_types_multi_remote_attachment } from "./gen/xmtp/mls/message_contents/content_types/multi_remote_attachment_pb.js";
import { file_xmtp_mls_message_contents_content_types_reaction } from "./gen/xmtp/mls/message_contents/content_types/reaction_pb.js";
import { file_xmtp_mls_message_contents_group_membership } from "./gen/xmtp/mls/message_contents/group_membership_pb.js";
import { file_xmtp_mls_message_contents_group_metadata } from "./gen/xmtp/mls/message_contents/group_metadata_pb.js";
import { file_xmtp_mls_message_contents_group_mutable_metadata } from "./gen/xmtp/mls/message_contents/group_mutable_metadata_pb.js";
import { file_xmtp_mls_message_contents_group_permissions } from "./gen/xmtp/mls/message_contents/group_permissions_pb.js";
import { file_xmtp_mls_message_contents_oneshot } from "./gen/xmtp/mls/message_contents/oneshot_pb.js";
import { file_xmtp_mls_message_contents_transcript_messages } from "./gen/xmtp/mls/message_contents/transcript_messages_pb.js";
import { file_xmtp_mls_message_contents_welcome_pointer } from "./gen/xmtp/mls/message_contents/welcome_pointer_pb.js";
import { file_xmtp_mls_message_contents_wrapper_encryption } from "./gen/xmtp/mls/message_contents/wrapper_encryption_pb.js";

export const allFiles: readonly DescFile[] = [
  file_grpc_health_v1_health,
  file_xmtp_identity_api_v1_identity,
  file_xmtp_identity_associations_association,
  file_xmtp_identity_associations_signature,
  file_xmtp_identity_credential,
  file_xmtp_message_contents_public_key,
  file_xmtp_message_contents_signature,
  file_xmtp_mls_api_v1_mls,
  file_xmtp_mls_message_contents_commit_log,
  file_xmtp_mls_message_contents_content,
  file_xmtp_mls_message_contents_content_types_delete_message,
  file_xmtp_mls_message_contents_content_types_leave_request,
  file_xmtp_mls_message_contents_content_types_multi_remote_attachment,
  file_xmtp_mls_message_contents_content_types_reaction,
  file_xmtp_mls_message_contents_group_membership,
  file_xmtp_mls_message_contents_group_metadata,
  file_xmtp_mls_message_contents_group_mutable_metadata,
  file_xmtp_mls_message_contents_group_permissions,
  file_xmtp_mls_message_contents_oneshot,
  file_xmtp_mls_message_contents_transcript_messages,
  file_xmtp_mls_message_contents_welcome_pointer,
  file_xmtp_mls_message_contents_wrapper_encryption,
];
