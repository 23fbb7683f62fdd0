// Reactions (../shared/spec/xmtp-client.md section 4.2): xmtp.org/reaction:2.0
// is a protobuf ReactionV2, what the official client sends; the legacy
// xmtp.org/reaction:1.0 JSON is read too. The shape is the official SDK's
// `Reaction` (numeric action and schema, as its node bindings have them).
import { create } from "@bufbuild/protobuf";
import { contentTypes, decode, encode, messageContents } from "@parley/proto";

export const ContentTypeReaction = { authorityId: "xmtp.org", typeId: "reaction", versionMajor: 2, versionMinor: 0 } as const;

export const ReactionAction = { Unknown: 0, Added: 1, Removed: 2 } as const;
export type ReactionAction = (typeof ReactionAction)[keyof typeof ReactionAction];
export const ReactionSchema = { Unknown: 0, Unicode: 1, Shortcode: 2, Custom: 3 } as const;
export type ReactionSchema = (typeof ReactionSchema)[keyof typeof ReactionSchema];

export interface Reaction {
  /** Hex id of the message reacted to. */
  readonly reference: string;
  readonly referenceInboxId: string;
  readonly action: ReactionAction;
  readonly content: string;
  readonly schema: ReactionSchema;
}

export function encodeReaction(reaction: Reaction): messageContents.EncodedContent {
  const body = encode(
    contentTypes.ReactionV2Schema,
    create(contentTypes.ReactionV2Schema, {
      reference: reaction.reference,
      referenceInboxId: reaction.referenceInboxId,
      action: reaction.action,
      content: reaction.content,
      schema: reaction.schema,
    }),
  );
  return create(messageContents.EncodedContentSchema, {
    type: ContentTypeReaction,
    parameters: {},
    content: body,
    fallback: `${reaction.action === ReactionAction.Removed ? "Removed" : "Reacted with"} “${reaction.content}” ${reaction.action === ReactionAction.Removed ? "from" : "to"} an earlier message`,
  });
}

const LEGACY_ACTIONS: Record<string, ReactionAction> = { added: ReactionAction.Added, removed: ReactionAction.Removed };
const LEGACY_SCHEMAS: Record<string, ReactionSchema> = {
  unicode: ReactionSchema.Unicode,
  shortcode: ReactionSchema.Shortcode,
  custom: ReactionSchema.Custom,
};

/** undefined when the bytes are not a reaction of either version. */
export function decodeReaction(encoded: messageContents.EncodedContent): Reaction | undefined {
  const type = encoded.type;
  if (type?.authorityId !== "xmtp.org" || type.typeId !== "reaction") return undefined;
  try {
    if (type.versionMajor === 2) {
      const r = decode(contentTypes.ReactionV2Schema, encoded.content);
      return {
        reference: r.reference,
        referenceInboxId: r.referenceInboxId,
        action: r.action as number as ReactionAction,
        content: r.content,
        schema: r.schema as number as ReactionSchema,
      };
    }
    if (type.versionMajor === 1) {
      const json = JSON.parse(new TextDecoder().decode(encoded.content)) as Record<string, unknown>;
      const str = (k: string) => (typeof json[k] === "string" ? json[k] : "");
      return {
        reference: str("reference"),
        referenceInboxId: str("referenceInboxId"),
        action: LEGACY_ACTIONS[str("action")] ?? ReactionAction.Unknown,
        content: str("content"),
        schema: LEGACY_SCHEMAS[str("schema")] ?? ReactionSchema.Unknown,
      };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
