// A stored message as the official SDK shows it (`DecodedMessage`,
// ../shared/spec/xmtp-client.md section 7): the content decoded by the codecs
// this client has, the content type as an object, the kind.
import { decode, messageContents } from "@parley/proto";
import { contentTypeOf, type ContentTypeId } from "../content/encoded-content.js";
import { decodeGroupUpdated, messageKindOf, type GroupMessageKind, type GroupUpdated } from "../content/group-updated-codec.js";
import { decodeReaction, type Reaction } from "../content/reaction-codec.js";
import { decodeReply, type Reply } from "../content/reply-codec.js";
import { contentTypeString, decodeContent } from "../content/text-codec.js";
import type { StoredMessage } from "../store/local-store.js";

export interface DecodedMessage {
  readonly id: string;
  readonly conversationId: string;
  readonly senderInboxId: string;
  readonly sentAtNs: bigint;
  readonly sentAt: Date;
  /** As the official SDK: `{ authorityId, typeId, versionMajor, versionMinor }` (contentTypeToString for the string form). */
  readonly contentType: ContentTypeId;
  /** The text, the reaction, the reply, the group update, or the fallback text for a type without a codec here. */
  readonly content: string | Reaction | Reply<string | Reaction | undefined> | GroupUpdated | undefined;
  readonly fallback: string | undefined;
  /** MembershipChange for group updates, Application for everything else. */
  readonly kind: GroupMessageKind;
}

export interface ListMessagesOptions {
  readonly limit?: number;
  readonly direction?: "ascending" | "descending";
  readonly sentAfterNs?: bigint;
  readonly sentBeforeNs?: bigint;
  /** Only application messages, or only group updates. */
  readonly kind?: GroupMessageKind;
}

function decodeMessageContent(encoded: messageContents.EncodedContent): DecodedMessage["content"] {
  const reply = decodeReply(encoded);
  if (reply !== undefined) {
    return {
      reference: reply.reference,
      referenceInboxId: reply.referenceInboxId,
      contentType: contentTypeString(reply.inner.type),
      content: decodeReaction(reply.inner) ?? decodeContent(reply.inner),
    };
  }
  return decodeGroupUpdated(encoded) ?? decodeReaction(encoded) ?? decodeContent(encoded);
}

/** A stored row of the conversation with hex id `conversationId`, decoded. */
export function decodeStoredMessage(row: StoredMessage, conversationId: string): DecodedMessage {
  const encoded = decode(messageContents.EncodedContentSchema, row.encodedContent);
  return {
    id: row.id,
    conversationId,
    senderInboxId: row.senderInboxId,
    sentAtNs: row.sentAtNs,
    sentAt: new Date(Number(row.sentAtNs / 1_000_000n)),
    contentType: contentTypeOf(encoded.type),
    content: decodeMessageContent(encoded),
    fallback: encoded.fallback,
    kind: messageKindOf(row.contentType),
  };
}
