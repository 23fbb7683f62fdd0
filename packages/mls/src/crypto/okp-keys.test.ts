// The JWK fast path of okp-keys.ts relies on Node building a private OKP key
// from `d` alone; these pin that, and the round trips, on this Node.
import assert from "node:assert/strict";
import { createPublicKey, diffieHellman, generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, it } from "node:test";
import { exportRawPrivate, exportRawPublic, importPrivate, importPublic } from "./okp-keys.js";

describe("raw OKP keys", () => {
  for (const curve of ["ed25519", "x25519"] as const) {
    it(`${curve}: import ignores the placeholder x and round-trips`, () => {
      const kp = curve === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("x25519");
      const rawPriv = exportRawPrivate(kp.privateKey);
      const rawPub = exportRawPublic(kp.publicKey);
      const imported = importPrivate(curve, rawPriv);
      assert.deepEqual(exportRawPublic(createPublicKey(imported)), rawPub);
      assert.deepEqual(exportRawPrivate(imported), rawPriv);
      assert.deepEqual(exportRawPublic(importPublic(curve, rawPub)), rawPub);
      if (curve === "ed25519") {
        const sig = sign(null, Buffer.from("m"), imported);
        assert.equal(verify(null, Buffer.from("m"), kp.publicKey, sig), true);
      } else {
        const other = generateKeyPairSync("x25519");
        assert.deepEqual(
          diffieHellman({ privateKey: imported, publicKey: other.publicKey }),
          diffieHellman({ privateKey: other.privateKey, publicKey: kp.publicKey }),
        );
      }
    });
  }

  it("refuses keys of the wrong length", () => {
    assert.throws(() => importPrivate("x25519", new Uint8Array(31)));
    assert.throws(() => importPublic("ed25519", new Uint8Array(33)));
  });
});
