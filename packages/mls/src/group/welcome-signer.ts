// Who sent a Welcome (libxmtp's `added_by`, xmtp-client.md 2.5 step 2): the
// signer of its GroupInfo (RFC 9420 12.4.3). ts-mls verifies that signature
// when it joins but does not report the signer, so the GroupInfo is opened
// again here: group secrets with our init key (EncryptWithLabel "Welcome"),
// welcome_secret from the joiner secret with a zero psk_secret (PSK welcomes
// are refused anyway), then the AEAD. Called only after the join succeeded.
import type { Welcome } from "ts-mls";
import { mlsMessageDecoder, wireformats } from "../engine/ts-mls.js";
import { aeadKeyLength, aeadOpen, NONCE_LENGTH } from "../crypto/aead.js";
import { concat, i2osp, utf8 } from "../crypto/bytes.js";
import { HASH_LENGTH, hkdfExpand, hkdfExtract } from "../crypto/hkdf.js";
import { nodeHpkeSuite } from "../crypto/provider.js";
import { decodeVarint, vector } from "../tls.js";
import { MLS10 } from "../xmtp/profile.js";

function expandWithLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const kdfLabel = concat(i2osp(length, 2), vector(utf8(`MLS 1.0 ${label}`)), vector(context));
  return hkdfExpand(secret, kdfLabel, length);
}

/** The GroupInfo signer's leaf index, or undefined if anything does not open. */
export function welcomeSignerLeaf(welcome: Welcome, keyPackageRef: Uint8Array, initPrivateKey: Uint8Array): number | undefined {
  try {
    const entry = welcome.secrets.find(
      (s) => s.newMember.length === keyPackageRef.length && s.newMember.every((b, i) => b === keyPackageRef[i]),
    );
    if (entry === undefined) return undefined;
    const suite = nodeHpkeSuite();
    const info = concat(vector(utf8("MLS 1.0 Welcome")), vector(welcome.encryptedGroupInfo));
    const ctx = suite.setupReceiver(initPrivateKey, entry.encryptedGroupSecrets.kemOutput, info);
    const groupSecrets = suite.open(ctx, new Uint8Array(0), entry.encryptedGroupSecrets.ciphertext);
    const header = decodeVarint(groupSecrets, 0);
    if (header === undefined) return undefined;
    const joinerSecret = groupSecrets.subarray(header[1], header[1] + header[0]);
    const member = hkdfExtract(joinerSecret, new Uint8Array(HASH_LENGTH));
    const welcomeSecret = expandWithLabel(member, "welcome", new Uint8Array(0), HASH_LENGTH);
    const key = expandWithLabel(welcomeSecret, "key", new Uint8Array(0), aeadKeyLength("CHACHA20POLY1305"));
    const nonce = expandWithLabel(welcomeSecret, "nonce", new Uint8Array(0), NONCE_LENGTH);
    const groupInfo = aeadOpen("CHACHA20POLY1305", key, nonce, new Uint8Array(0), welcome.encryptedGroupInfo);
    // Read through the public MLSMessage decoder: version mls10, wire format group_info.
    const framed = concat(i2osp(MLS10, 2), i2osp(wireformats.mls_group_info, 2), groupInfo);
    const message = mlsMessageDecoder(framed, 0)?.[0];
    return message?.wireformat === wireformats.mls_group_info ? message.groupInfo.signer : undefined;
  } catch {
    return undefined;
  }
}

