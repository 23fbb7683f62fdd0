// The official SDK's generic send (../shared/spec/xmtp-client.md section 7,
// `send(encodedContent, { shouldPush, idempotencyKey })`): an app encodes its
// own content type and hands over the EncodedContent as a plain object, as
// the official node bindings take it.
import { create } from "@bufbuild/protobuf";
import { messageContents } from "@parley/proto";
import { ClientError } from "../client-error.js";

export interface ContentTypeId {
  readonly authorityId: string;
  readonly typeId: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
}

/** `authority/type:major.minor`, as @xmtp/content-type-primitives writes it. */
export function contentTypeToString(t: ContentTypeId): string {
  return `${t.authorityId}/${t.typeId}:${t.versionMajor}.${t.versionMinor}`;
}

/** A plain copy of a protobuf ContentTypeId; "unknown" (as libxmtp) when absent. */
export function contentTypeOf(t: ContentTypeId | undefined): ContentTypeId {
  if (t === undefined) return { authorityId: "unknown", typeId: "unknown", versionMajor: 0, versionMinor: 0 };
  return { authorityId: t.authorityId, typeId: t.typeId, versionMajor: t.versionMajor, versionMinor: t.versionMinor };
}

export interface EncodedContentInput {
  readonly type: ContentTypeId;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly fallback?: string;
  /** 0 deflate, 1 gzip (the content is already compressed). */
  readonly compression?: number;
  readonly content: Uint8Array;
}

export interface SendOptions {
  /** Whether push notifications are asked for; default true. */
  readonly shouldPush?: boolean;
  /** Sending twice with the same key and content gives the same message id; default the send time in ns. */
  readonly idempotencyKey?: string;
}

/** @throws ClientError `client.usage` for a content type that is not whole, a group update, or an unknown compression. */
export function toEncodedContent(input: EncodedContentInput): messageContents.EncodedContent {
  const t = input.type;
  if (t.authorityId === "" || t.typeId === "" || !Number.isInteger(t.versionMajor) || !Number.isInteger(t.versionMinor)) {
    throw new ClientError("client.usage", "an EncodedContent needs an authority, a type id and integer versions");
  }
  // Group updates are built by each member from the commits it applies; one
  // sent as a message would be a member's claim about membership, not a fact.
  if (t.authorityId === "xmtp.org" && t.typeId === "group_updated") {
    throw new ClientError("client.usage", "group updates are built from commits, never sent");
  }
  if (input.compression !== undefined && input.compression !== 0 && input.compression !== 1) {
    throw new ClientError("client.usage", "compression is 0 (deflate) or 1 (gzip)");
  }
  return create(messageContents.EncodedContentSchema, {
    type: { authorityId: t.authorityId, typeId: t.typeId, versionMajor: t.versionMajor, versionMinor: t.versionMinor },
    parameters: { ...input.parameters },
    content: input.content,
    ...(input.fallback === undefined ? {} : { fallback: input.fallback }),
    ...(input.compression === undefined ? {} : { compression: input.compression }),
  });
}
