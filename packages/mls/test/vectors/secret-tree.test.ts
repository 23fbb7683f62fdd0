// secret-tree.json (RFC 9420 9, 6.3.2): sender-data key/nonce and the
// per-leaf handshake and application ratchets at given generations.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { engine } from "../../src/engine/ts-mls.js";
const { defaultKeyRetentionConfig } = engine;
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import { createSecretTree, expandSenderDataKey, expandSenderDataNonce, ratchetToGeneration, toLeafIndex } from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Leaf { generation: number; handshake_key: string; handshake_nonce: string; application_key: string; application_nonce: string }
interface Case {
  cipher_suite: number;
  sender_data: { sender_data_secret: string; ciphertext: string; key: string; nonce: string };
  encryption_secret: string;
  leaves: Leaf[][];
}

const v = loadVectors<Case>("secret-tree.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("secret-tree.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i} (${c.leaves.length} leaves)`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const sd = c.sender_data;
        assert.equal(toHex(await expandSenderDataKey(cs, hex(sd.sender_data_secret), hex(sd.ciphertext))), sd.key);
        assert.equal(toHex(await expandSenderDataNonce(cs, hex(sd.sender_data_secret), hex(sd.ciphertext))), sd.nonce);
        let tree = createSecretTree(c.leaves.length, hex(c.encryption_secret));
        // Far-apart generations: let the ratchet walk as far as the vector asks.
        const config = { ...defaultKeyRetentionConfig, maximumForwardRatchetSteps: 1 << 20 };
        for (const [index, gens] of c.leaves.entries()) {
          for (const g of gens) {
            const senderData = { leafIndex: toLeafIndex(index), generation: g.generation, reuseGuard: new Uint8Array(4) };
            const app = await ratchetToGeneration(tree, senderData as never, 1, config, cs);
            assert.equal(toHex(app.key), g.application_key);
            assert.equal(toHex(app.nonce), g.application_nonce);
            const hs = await ratchetToGeneration(app.newTree, senderData as never, 3, config, cs);
            assert.equal(toHex(hs.key), g.handshake_key);
            assert.equal(toHex(hs.nonce), g.handshake_nonce);
            tree = hs.newTree;
          }
        }
      });
    });
  });
}
