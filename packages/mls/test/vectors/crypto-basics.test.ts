// crypto-basics.json (RFC 9420 5.1-5.2, 8): RefHash, ExpandWithLabel,
// DeriveSecret, DeriveTreeSecret, Sign/VerifyWithLabel, Encrypt/DecryptWithLabel
// through our node:crypto provider.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import {
  decryptWithLabel,
  deriveSecret,
  deriveTreeSecret,
  encryptWithLabel,
  expandWithLabel,
  refhash,
  signWithLabel,
  verifyWithLabel,
} from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Case {
  cipher_suite: number;
  ref_hash: { label: string; value: string; out: string };
  expand_with_label: { secret: string; label: string; context: string; length: number; out: string };
  derive_secret: { secret: string; label: string; out: string };
  derive_tree_secret: { secret: string; label: string; generation: number; length: number; out: string };
  sign_with_label: { priv: string; pub: string; content: string; label: string; signature: string };
  encrypt_with_label: { priv: string; pub: string; label: string; context: string; plaintext: string; kem_output: string; ciphertext: string };
}

const v = loadVectors<Case>("crypto-basics.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("crypto-basics.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i}`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        assert.equal(toHex(await refhash(c.ref_hash.label, hex(c.ref_hash.value), cs.hash)), c.ref_hash.out);
        const e = c.expand_with_label;
        assert.equal(toHex(await expandWithLabel(hex(e.secret), e.label, hex(e.context), e.length, cs.kdf)), e.out);
        assert.equal(toHex(await deriveSecret(hex(c.derive_secret.secret), c.derive_secret.label, cs.kdf)), c.derive_secret.out);
        const t = c.derive_tree_secret;
        assert.equal(toHex(await deriveTreeSecret(hex(t.secret), t.label, t.generation, t.length, cs.kdf)), t.out);
        const s = c.sign_with_label;
        assert.equal(await verifyWithLabel(hex(s.pub), s.label, hex(s.content), hex(s.signature), cs.signature), true);
        const sig = await signWithLabel(hex(s.priv), s.label, hex(s.content), cs.signature);
        // Ed25519 is deterministic: our signature is the vector's.
        assert.equal(toHex(sig), s.signature);
        const x = c.encrypt_with_label;
        const priv = await cs.hpke.importPrivateKey(hex(x.priv));
        const pub = await cs.hpke.importPublicKey(hex(x.pub));
        const pt = await decryptWithLabel(priv, x.label, hex(x.context), hex(x.kem_output), hex(x.ciphertext), cs.hpke);
        assert.equal(toHex(pt), x.plaintext);
        const fresh = await encryptWithLabel(pub, x.label, hex(x.context), hex(x.plaintext), cs.hpke);
        const again = await decryptWithLabel(priv, x.label, hex(x.context), fresh.enc, fresh.ct, cs.hpke);
        assert.equal(toHex(again), x.plaintext);
      });
    });
  });
}
