// A PrivateMessage (RFC 9420 6.3) of any size for a node, which reads only
// the framing: random bytes where the sender data and ciphertext go, as an
// encrypted message looks to it. For tests and benchmarks of what a node
// does with many or large messages it cannot read.
import { randomBytes } from "node:crypto";

/** RFC 9420 2.1.2: a variable-length vector's length prefix. */
function vector(bytes: Uint8Array): Buffer {
  const n = bytes.length;
  let prefix: Buffer;
  if (n < 0x40) prefix = Buffer.from([n]);
  else if (n < 0x4000) prefix = Buffer.from([0x40 | (n >> 8), n & 0xff]);
  else {
    prefix = Buffer.alloc(4);
    prefix.writeUInt32BE((0x8000_0000 | n) >>> 0);
  }
  return Buffer.concat([prefix, bytes]);
}

/** An application message of `ciphertextBytes` of ciphertext for group `groupId`, epoch 1. */
export function privateMessageOfSize(groupId: Uint8Array, ciphertextBytes: number): Uint8Array {
  const epoch = Buffer.alloc(8);
  epoch.writeBigUInt64BE(1n);
  return Buffer.concat([
    Buffer.from([0, 1, 0, 2]), // mls10, mls_private_message
    vector(groupId),
    epoch,
    Buffer.from([1]), // application
    vector(new Uint8Array(0)),
    vector(randomBytes(48)),
    vector(randomBytes(ciphertextBytes)),
  ]);
}
