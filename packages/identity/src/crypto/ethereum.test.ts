// EIP-191 personal_sign against web3.js's accounts.sign example, and the
// refusals of malleable or malformed signatures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { addressOfSecretKey, personalMessageHash, recoverPersonalSigner, signPersonalMessage } from "./ethereum.js";

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
