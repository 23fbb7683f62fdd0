// The first decoding of a decrypted application message
// (../shared/spec/xmtp-client.md sections 4.1-4.2): PlaintextEnvelope V1,
// then the EncodedContent it carries. The bytes come from a member, so they
// are untrusted: anything that does not decode is a typed error.
import { decode, messageContents } from "@parley/proto";
import { ClientError } from "../client-error.js";
import { contentTypeString, decodeEnvelope } from "./text-codec.js";

/** Bigger than any message the node accepts; bounds the work a peer can ask for. */
const MAX_PLAINTEXT_BYTES = 8 * 1024 * 1024;

export interface IncomingPayload {
  readonly idempotencyKey: string;
  /** The EncodedContent bytes, as the message id hashes them. */
  readonly encodedContent: Uint8Array;
  readonly contentType: string;
}

/**
 * @returns the payload, or undefined for a V2 envelope (legacy device sync,
 *   which nothing reads any more).
 * @throws ClientError `client.bad_content` when the envelope or the content does not decode.
 */
export function decodeIncomingPayload(plaintext: Uint8Array): IncomingPayload | undefined {
  try {
    if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new ClientError("client.bad_content", "application message too large");
    const payload = decodeEnvelope(plaintext);
    if (payload === undefined) return undefined;
    const encoded = decode(messageContents.EncodedContentSchema, payload.content);
    return { idempotencyKey: payload.idempotencyKey, encodedContent: payload.content, contentType: contentTypeString(encoded.type) };
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw new ClientError("client.bad_content", "the application message does not decode", { cause: error });
  }
}
