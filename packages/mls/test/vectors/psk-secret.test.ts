// psk_secret.json (RFC 9420 8.4): psk_secret from lists of external PSKs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import { computePskSecret } from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Case { cipher_suite: number; psk_secret: string; psks: { psk_id: string; psk: string; psk_nonce: string }[] }

const v = loadVectors<Case>("psk_secret.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("psk_secret.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i} (${c.psks.length} PSKs)`, async () => {
        const psks = c.psks.map((p) => [{ psktype: 1, pskId: hex(p.psk_id), pskNonce: hex(p.psk_nonce) }, hex(p.psk)]);
        const secret = await computePskSecret(psks as never, nodeCiphersuite(c.cipher_suite));
        assert.equal(toHex(secret), c.psk_secret);
      });
    });
  });
}
