// Installation signatures: Ed25519ph against RFC 8032 section 7.3, and
// XMTP's signing context.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ed25519ph } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { installationPublicKey, signWithInstallationKey, verifyInstallationSignature } from "./installation-key.js";

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
