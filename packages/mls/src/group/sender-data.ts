// Who sent a PrivateMessage (RFC 9420 6.3.2): ts-mls verifies the sender but
// does not report it for application messages, so the sender data is opened
// again here with the epoch's sender_data_secret. Only called after ts-mls
// accepted the message, so the leaf index is authenticated.
import type { PrivateMessage } from "ts-mls";
import { aeadKeyLength, aeadOpen, NONCE_LENGTH } from "../crypto/aead.js";
import { concat, i2osp, utf8 } from "../crypto/bytes.js";
import { HASH_LENGTH, hkdfExpand } from "../crypto/hkdf.js";
import { wireformats } from "../engine/ts-mls.js";
import { decodeFramedMessage } from "../framing.js";
import { vector } from "../tls.js";
import { engineOf, type GroupState } from "./group-state.js";

function expandWithLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  // KDFLabel: uint16 length, opaque label<V> = "MLS 1.0 " + label, opaque context<V>.
  return hkdfExpand(secret, concat(i2osp(length, 2), vector(utf8(`MLS 1.0 ${label}`)), vector(context)), length);
}

/** SenderData (RFC 9420 6.3.2): uint32 leaf_index, uint32 generation, opaque reuse_guard[4]. */
const SENDER_DATA_LENGTH = 12;

export interface SenderData {
  readonly leafIndex: number;
  readonly generation: number;
}

/** The sender's leaf index, or undefined when the sender data does not open. */
export function senderLeafIndex(senderDataSecret: Uint8Array, pm: PrivateMessage): number | undefined {
  return openSenderData(senderDataSecret, pm)?.leafIndex;
}

/** The sender data (leaf index, generation), or undefined when it does not open. */
export function openSenderData(senderDataSecret: Uint8Array, pm: PrivateMessage): SenderData | undefined {
  const sample = pm.ciphertext.subarray(0, HASH_LENGTH);
  const key = expandWithLabel(senderDataSecret, "key", sample, aeadKeyLength("CHACHA20POLY1305"));
  const nonce = expandWithLabel(senderDataSecret, "nonce", sample, NONCE_LENGTH);
  const aad = concat(vector(pm.groupId), epochBytes(pm.epoch), Uint8Array.of(pm.contentType));
  try {
    const data = aeadOpen("CHACHA20POLY1305", key, nonce, aad, pm.encryptedSenderData);
    if (data.length !== SENDER_DATA_LENGTH) return undefined;
    const view = new DataView(data.buffer, data.byteOffset);
    return { leafIndex: view.getUint32(0), generation: view.getUint32(4) };
  } catch {
    return undefined;
  }
}

/**
 * Who sent a PrivateMessage of the state's current epoch, and with which
 * generation (no secret: for audits and tests that a generation is used
 * once). Undefined for another epoch or wire format, or sender data that
 * does not open.
 *
 * @throws MlsError `mls.malformed` for bytes that are no MLSMessage.
 */
export function messageSenderData(state: GroupState, bytes: Uint8Array): SenderData | undefined {
  const message = decodeFramedMessage(bytes);
  if (message.wireformat !== wireformats.mls_private_message) return undefined;
  const engine = engineOf(state);
  if (message.privateMessage.epoch !== engine.groupContext.epoch) return undefined;
  return openSenderData(engine.keySchedule.senderDataSecret, message.privateMessage);
}

function epochBytes(epoch: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, epoch);
  return out;
}
