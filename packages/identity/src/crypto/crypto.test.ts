// Signature primitives against published vectors: EIP-191 (web3.js's
// accounts.sign example) and RFC 8032 section 7.3 (Ed25519ph), plus the
// refusals of malleable or malformed input.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ed25519ph } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { addressOfSecretKey, personalMessageHash, recoverPersonalSigner, signPersonalMessage } from "./ethereum.js";
import { installationPublicKey, signWithInstallationKey, verifyInstallationSignature } from "./installation-key.js";

describe("EIP-191 personal_sign", () => {
  const secretKey = hexToBytes("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  const signature = hexToBytes(
    "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a0291c",
  );

  it("hashes, signs and recovers as web3.js's example", () => {
    assert.equal(bytesToHex(personalMessageHash("Some data")), "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655");
    assert.equal(addressOfSecretKey(secretKey), "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23");
    assert.deepEqual(signPersonalMessage("Some data", secretKey), signature);
    assert.equal(recoverPersonalSigner("Some data", signature).address, "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23");
  });

  it("takes v as 0/1 or 27/28 and nothing else", () => {
    const zeroBased = signature.slice();
    zeroBased[64] = 1;
    assert.equal(recoverPersonalSigner("Some data", zeroBased).address, "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23");
    for (const v of [2, 26, 29, 37]) {
      const bad = signature.slice();
      bad[64] = v;
      assert.throws(() => recoverPersonalSigner("Some data", bad), { code: "identity.bad_signature" });
    }
  });

  it("refuses the high-S twin of a valid signature, and wrong lengths", () => {
    const s = BigInt(`0x${bytesToHex(signature.subarray(32, 64))}`);
    const twin = signature.slice();
    twin.set(hexToBytes((secp256k1.Point.CURVE().n - s).toString(16).padStart(64, "0")), 32);
    twin[64] = 27;
    assert.throws(() => recoverPersonalSigner("Some data", twin), { code: "identity.bad_signature" });
    assert.throws(() => recoverPersonalSigner("Some data", signature.subarray(0, 64)), { code: "identity.bad_signature" });
    assert.throws(() => recoverPersonalSigner("Some data", new Uint8Array(65)), { code: "identity.bad_signature" });
  });
});

describe("installation signatures (Ed25519ph)", () => {
  it("is RFC 8032's Ed25519ph (vector of section 7.3, empty context)", () => {
    const secretKey = hexToBytes("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    assert.equal(bytesToHex(ed25519ph.getPublicKey(secretKey)), "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
    assert.equal(
      bytesToHex(ed25519ph.sign(utf8ToBytes("abc"), secretKey)),
      "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
    );
  });

  it("signs with XMTP's context, and only that context verifies", () => {
    const secretKey = hexToBytes("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    const publicKey = installationPublicKey(secretKey);
    const signature = signWithInstallationKey("text", secretKey);
    verifyInstallationSignature("text", signature, publicKey);
    assert.throws(() => verifyInstallationSignature("text.", signature, publicKey), { code: "identity.bad_signature" });
    const noContext = ed25519ph.sign(utf8ToBytes("text"), secretKey);
    assert.throws(() => verifyInstallationSignature("text", noContext, publicKey), { code: "identity.bad_signature" });
    assert.throws(() => verifyInstallationSignature("text", signature.subarray(1), publicKey), { code: "identity.bad_signature" });
    // 32 bytes that are not a point.
    const notAPoint = new Uint8Array(32).fill(0xff);
    assert.throws(() => verifyInstallationSignature("text", signature, notAPoint), { code: "identity.bad_signature" });
  });
});
