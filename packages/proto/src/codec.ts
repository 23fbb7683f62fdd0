// Decoding and encoding of wire messages. Every byte string from a peer or
// the network is decoded here, so that malformed input always surfaces as a
// ProtoError rather than whatever the protobuf runtime happens to throw.
import {
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageShape,
} from "@bufbuild/protobuf";
import { ProtoError } from "./proto-error.js";

export interface DecodeOptions {
  /** Refuse input longer than this many bytes before parsing it. */
  readonly maxBytes?: number;
}

/**
 * Decodes `bytes` as a `schema` message. Unknown fields are kept, so that
 * re-encoding gives back the bytes that were received.
 *
 * @throws ProtoError `proto.malformed` when the bytes don't parse,
 *   `proto.too_large` when they exceed `options.maxBytes`.
 */
export function decode<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): MessageShape<Desc> {
  if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
    throw new ProtoError(
      "proto.too_large",
      `${schema.typeName}: ${bytes.length} bytes exceeds the limit of ${options.maxBytes}`,
    );
  }
  try {
    return fromBinary(schema, bytes);
  } catch (cause) {
    throw new ProtoError("proto.malformed", `${schema.typeName}: malformed protobuf`, { cause });
  }
}

/** Encodes a message; the inverse of {@link decode}. */
export function encode<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Uint8Array {
  return toBinary(schema, message);
}
