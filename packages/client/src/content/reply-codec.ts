// Replies (../shared/spec/xmtp-client.md section 4.2): xmtp.org/reply:1.0,
// as @xmtp/content-type-reply writes them: the content is the inner
// EncodedContent protobuf; parameters name the message replied to
// (`reference`, hex id), its sender (`referenceInboxId`, optional) and the
// inner type (`contentType`, `authority/type:major.minor`).
import { create } from "@bufbuild/protobuf";
import { decode, encode, messageContents } from "@parley/proto";
import { contentTypeString } from "./text-codec.js";

export const ContentTypeReply = { authorityId: "xmtp.org", typeId: "reply", versionMajor: 1, versionMinor: 0 } as const;

export interface Reply<T = unknown> {
  readonly reference: string;
  readonly referenceInboxId: string | undefined;
  /** The inner content type, `authority/type:major.minor`. */
  readonly contentType: string;
  /** The inner content, decoded as messages are (text, reaction, fallback). */
  readonly content: T;
}

export function encodeReply(reference: string, referenceInboxId: string | undefined, inner: messageContents.EncodedContent): messageContents.EncodedContent {
  const innerText = inner.type?.typeId === "text" ? new TextDecoder().decode(inner.content) : undefined;
  return create(messageContents.EncodedContentSchema, {
    type: ContentTypeReply,
    parameters: {
      contentType: contentTypeString(inner.type),
      reference,
      ...(referenceInboxId === undefined ? {} : { referenceInboxId }),
    },
    content: encode(messageContents.EncodedContentSchema, inner),
    ...(innerText === undefined ? {} : { fallback: `Replied with “${innerText}” to an earlier message` }),
  });
}

/** The reference and the inner EncodedContent; undefined when not a reply or malformed. */
export function decodeReply(
  encoded: messageContents.EncodedContent,
): { reference: string; referenceInboxId: string | undefined; inner: messageContents.EncodedContent } | undefined {
  const type = encoded.type;
  if (type?.authorityId !== "xmtp.org" || type.typeId !== "reply" || type.versionMajor !== 1) return undefined;
  const reference = encoded.parameters["reference"];
  if (reference === undefined) return undefined;
  try {
    return { reference, referenceInboxId: encoded.parameters["referenceInboxId"], inner: decode(messageContents.EncodedContentSchema, encoded.content) };
  } catch {
    return undefined;
  }
}
