// Message contents (../shared/spec/xmtp-client.md section 4): the text
// codec (xmtp.org/text:1.0, UTF-8 with parameter encoding=UTF-8), the
// PlaintextEnvelope V1 every application message travels in, and the
// message id sha256(group_id ‖ "\t" ‖ idempotency_key ‖ "\t" ‖ content).
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { decode, encode, messageContents } from "@parley/proto";

export const ContentTypeText = { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 } as const;

export function contentTypeString(type: messageContents.ContentTypeId | undefined): string {
  if (type === undefined) return "unknown";
  return `${type.authorityId}/${type.typeId}:${type.versionMajor}.${type.versionMinor}`;
}

export function encodeText(text: string): messageContents.EncodedContent {
  return create(messageContents.EncodedContentSchema, {
    type: ContentTypeText,
    parameters: { encoding: "UTF-8" },
    content: new TextEncoder().encode(text),
  });
}

/** Wraps EncodedContent bytes for the MLS application message. */
export function encodeEnvelope(encodedContent: Uint8Array, idempotencyKey: string): Uint8Array {
  return encode(messageContents.PlaintextEnvelopeSchema, {
    $typeName: "xmtp.mls.message_contents.PlaintextEnvelope",
    content: { case: "v1", value: { $typeName: "xmtp.mls.message_contents.PlaintextEnvelope.V1", content: encodedContent, idempotencyKey } },
  });
}

/** The V1 payload of a decrypted application message; undefined for V2 (legacy device sync, ignored). */
export function decodeEnvelope(plaintext: Uint8Array): { content: Uint8Array; idempotencyKey: string } | undefined {
  const envelope = decode(messageContents.PlaintextEnvelopeSchema, plaintext);
  return envelope.content.case === "v1" ? envelope.content.value : undefined;
}

export function messageId(groupId: Uint8Array, idempotencyKey: string, encodedContent: Uint8Array): string {
  return createHash("sha256")
    .update(groupId)
    .update("\t")
    .update(idempotencyKey)
    .update("\t")
    .update(encodedContent)
    .digest("hex");
}

/**
 * What an app sees: the text for xmtp.org/text, otherwise the fallback
 * text (undefined when the sender gave none), as the official client does
 * for types it has no codec for.
 */
export function decodeContent(encoded: messageContents.EncodedContent): string | undefined {
  if (encoded.type?.authorityId === "xmtp.org" && encoded.type.typeId === "text" && encoded.compression === undefined) {
    return new TextDecoder().decode(encoded.content);
  }
  return encoded.fallback;
}
