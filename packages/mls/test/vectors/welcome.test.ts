// welcome.json (RFC 9420 12.4.3.1): decrypt the group secrets with
// init_priv, decrypt the GroupInfo, check its confirmation tag and signature.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { engine } from "../../src/engine/ts-mls.js";
const { makeKeyPackageRef, mlsMessageDecoder } = engine;
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import {
  decryptGroupInfo,
  decryptGroupSecrets,
  verifyGroupInfoConfirmationTag,
  verifyGroupInfoSignature,
} from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Case { cipher_suite: number; init_priv: string; signer_pub: string; key_package: string; welcome: string }

const v = loadVectors<Case>("welcome.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("welcome.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i}`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const w = mlsMessageDecoder(hex(c.welcome), 0)?.[0];
        const kp = mlsMessageDecoder(hex(c.key_package), 0)?.[0];
        assert.ok(w?.wireformat === 3 && kp?.wireformat === 5);
        const ref = await makeKeyPackageRef(kp.keyPackage, cs.hash);
        assert.ok(w.welcome.secrets.some((s) => toHex(s.newMember) === toHex(ref)));
        const priv = await cs.hpke.importPrivateKey(hex(c.init_priv));
        const secrets = await decryptGroupSecrets(priv, ref, w.welcome, cs.hpke);
        assert.ok(secrets);
        const psk = new Uint8Array(cs.kdf.size);
        const gi = await decryptGroupInfo(w.welcome, secrets.joinerSecret, psk, cs);
        assert.ok(gi);
        assert.equal(await verifyGroupInfoConfirmationTag(gi, secrets.joinerSecret, psk, cs), true);
        assert.equal(await verifyGroupInfoSignature(gi, hex(c.signer_pub), cs.signature), true);
      });
    });
  });
}
