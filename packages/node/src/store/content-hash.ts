// The key on which a re-sent record is recognised: SHA-256 over the topic
// and the payload. The topic's length goes first so that no two different
// (topic, payload) pairs hash the same bytes.
import { createHash } from "node:crypto";

export function contentHash(topic: Uint8Array, payload: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(topic.length);
  return createHash("sha256").update(length).update(topic).update(payload).digest();
}
