// Welcome wrapping: the label bytes and layout XMTP uses (xmtp-client.md
// 2.2), a round trip, and a cross-check against an independent HPKE
// implementation (@hpke/core, the one ts-mls's default provider uses), so
// that our RFC 9180 code is not only checked against itself.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { ed25519Keygen } from "./crypto/signature.js";
import { createKeyPackage } from "./key-package.js";
import { privateInitKey } from "./group/private-keys.js";
import { asInboxId } from "./xmtp/credential.js";
import { unwrapWelcome, WELCOME_WRAP_INFO, wrapWelcome } from "./welcome-wrap.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function recipient() {
  const { signKey } = ed25519Keygen();
  const bundle = await createKeyPackage({ inboxId: asInboxId("f".repeat(64)), privateKey: signKey });
  return { initKey: bundle.initKey, initPriv: privateInitKey(bundle.privateKeyPackage) };
}

describe("welcome wrapping", () => {
  it("uses XMTP's info label: 0x13 'MLS 1.0 MLS_WELCOME' 0x00", () => {
    assert.equal(hex(WELCOME_WRAP_INFO), "13" + Buffer.from("MLS 1.0 MLS_WELCOME").toString("hex") + "00");
    assert.equal(WELCOME_WRAP_INFO.length, 21);
  });

  it("lays out data as HPKECiphertext and metadata as raw AEAD output", async () => {
    const r = await recipient();
    const welcome = new Uint8Array(300).fill(7);
    const w = wrapWelcome(welcome, r.initKey, 9n);
    // kem_output<V>: 0x20 then 32 bytes; ciphertext<V>: 2-byte varint (316 = 0x413c) then welcome + tag.
    assert.equal(w.data[0], 0x20);
    assert.equal(hex(w.data.subarray(33, 35)), "413c");
    assert.equal(w.data.length, 1 + 32 + 2 + 300 + 16);
    // WelcomeMetadata{message_cursor: 9} is 2 bytes of protobuf + 16 of tag.
    assert.equal(w.welcomeMetadata.length, 2 + 16);
    assert.equal(w.wrapperAlgorithm, 1); // WELCOME_WRAPPER_ALGORITHM_CURVE25519
    assert.deepEqual(w.hpkePublicKey, r.initKey);
    const opened = unwrapWelcome(w, r.initPriv);
    assert.deepEqual(opened.welcome, welcome);
    assert.equal(opened.messageCursor, 9n);
  });

  it("opens with an independent HPKE implementation, two messages on one context", async () => {
    const r = await recipient();
    const welcome = new TextEncoder().encode("an MLS Welcome");
    const w = wrapWelcome(welcome, r.initKey, 123n);
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
    const enc = w.data.subarray(1, 33);
    // a 30-byte ciphertext has a one-byte length prefix
    assert.equal(w.data[33], welcome.length + 16);
    const ct = w.data.subarray(34);
    const ctx = await suite.createRecipientContext({
      recipientKey: await suite.kem.deserializePrivateKey(r.initPriv.slice().buffer),
      enc: enc.slice().buffer,
      info: WELCOME_WRAP_INFO.slice().buffer,
    });
    assert.deepEqual(new Uint8Array(await ctx.open(ct.slice().buffer)), welcome);
    const metadata = new Uint8Array(await ctx.open(w.welcomeMetadata.slice().buffer));
    assert.equal(hex(metadata), "087b"); // field 1 varint 123
  });

  it("refuses tampering, other algorithms and the wrong key with typed errors", async () => {
    const r = await recipient();
    const other = await recipient();
    const w = wrapWelcome(new Uint8Array(40), r.initKey, 1n);
    const flipped = w.data.slice();
    flipped[40]! ^= 1;
    assert.throws(() => unwrapWelcome({ ...w, data: flipped }, r.initPriv), { code: "mls.decrypt_failed" });
    assert.throws(() => unwrapWelcome(w, other.initPriv), { code: "mls.decrypt_failed" });
    assert.throws(() => unwrapWelcome({ ...w, wrapperAlgorithm: 2 }, r.initPriv), { code: "mls.unsupported_ciphersuite" });
    assert.throws(() => unwrapWelcome({ ...w, data: w.data.subarray(0, 20) }, r.initPriv), { code: "mls.malformed" });
    assert.equal(unwrapWelcome({ ...w, welcomeMetadata: new Uint8Array(0) }, r.initPriv).messageCursor, undefined);
  });
});
