// tree-validation.json (RFC 9420 7.8, 7.9, 4.1.1): tree hashes of every
// node, resolutions, parent-hash validity, leaf signatures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import {
  nodeToLeafIndex,
  ratchetTreeDecoder,
  resolution,
  toNodeIndex,
  treeHash,
  verifyLeafNodeSignature,
  verifyParentHashes,
} from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Case { cipher_suite: number; tree: string; group_id: string; tree_hashes: string[]; resolutions: number[][] }

const v = loadVectors<Case>("tree-validation.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("tree-validation.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i}`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const tree = ratchetTreeDecoder(hex(c.tree), 0)?.[0];
        assert.ok(tree);
        for (const [n, h] of c.tree_hashes.entries()) {
          assert.equal(toHex(await treeHash(tree, toNodeIndex(n), cs.hash)), h, `tree hash of node ${n}`);
        }
        for (const [n, r] of c.resolutions.entries()) assert.deepEqual(resolution(tree, toNodeIndex(n)), r);
        assert.equal(await verifyParentHashes(tree, cs.hash), true);
        // And a spoiled parent hash is caught (the coverage check is mended
        // at load to skip work, not checks: src/engine/mends.ts).
        const at = tree.findIndex((node) => node?.nodeType === 2 && node.parent.parentHash.length > 0);
        const spoilt = tree[at];
        if (spoilt?.nodeType === 2) {
          const parentHash = spoilt.parent.parentHash.slice();
          parentHash[0] = (parentHash[0] ?? 0) ^ 1;
          const copy = tree.slice();
          copy[at] = { ...spoilt, parent: { ...spoilt.parent, parentHash } };
          assert.equal(await verifyParentHashes(copy, cs.hash), false, `spoilt parent hash at node ${at}`);
        }
        for (const [n, node] of tree.entries()) {
          if (node?.nodeType !== 1) continue;
          const ok = await verifyLeafNodeSignature(node.leaf, hex(c.group_id), nodeToLeafIndex(toNodeIndex(n)), cs.signature);
          assert.equal(ok, true, `leaf signature at node ${n}`);
        }
      });
    });
  });
}
