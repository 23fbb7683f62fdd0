// The clear-text framing of a handshake or application message (RFC 9420
// 6: PublicMessage, 6.3: PrivateMessage), which is all the node can read:
// group id, epoch, content type. PrivateMessage carries content_type in the
// clear, which is how the node tells commits apart (xmtp-client.md 3.9).
import type { MlsFramedMessage } from "ts-mls";
import { contentTypes, mlsMessageDecoder, wireformats } from "./engine/ts-mls.js";
import { decodeExactly } from "./codec.js";
import { MlsError } from "./mls-error.js";

const CONTENT_TYPES = {
  [contentTypes.application]: "application",
  [contentTypes.proposal]: "proposal",
  [contentTypes.commit]: "commit",
} as const;

export type ContentKind = (typeof CONTENT_TYPES)[keyof typeof CONTENT_TYPES];

export interface MessageFraming {
  readonly wireFormat: "public" | "private";
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly contentType: ContentKind;
  readonly isCommit: boolean;
}

/**
 * Decodes an MLSMessage that must be a PublicMessage or PrivateMessage.
 *
 * @throws MlsError `mls.malformed`, `mls.unexpected_wire_format` (Welcome,
 *   GroupInfo, KeyPackage).
 */
export function decodeFramedMessage(bytes: Uint8Array): MlsFramedMessage {
  const message = decodeExactly(mlsMessageDecoder, bytes, "MLSMessage");
  if (message.wireformat !== wireformats.mls_public_message && message.wireformat !== wireformats.mls_private_message) {
    throw new MlsError("mls.unexpected_wire_format", "MLSMessage: not a PublicMessage or PrivateMessage");
  }
  return message;
}

/** Reads the framing of a group message without any keys (the node's check). */
export function parseFraming(bytes: Uint8Array): MessageFraming {
  const message = decodeFramedMessage(bytes);
  if (message.wireformat === wireformats.mls_private_message) {
    const pm = message.privateMessage;
    const contentType = CONTENT_TYPES[pm.contentType];
    return { wireFormat: "private", groupId: pm.groupId, epoch: pm.epoch, contentType, isCommit: contentType === "commit" };
  }
  const content = message.publicMessage.content;
  const contentType = CONTENT_TYPES[content.contentType];
  return { wireFormat: "public", groupId: content.groupId, epoch: content.epoch, contentType, isCommit: contentType === "commit" };
}
