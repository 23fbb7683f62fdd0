// tree-operations.json (RFC 9420 7.7, 12.1): apply an Add, Update or Remove
// to a tree and check the tree and its hash. The file only has suite-1
// cases; the operations and the tree hash need only SHA-256, which suites 1
// and 3 share, so they run with our provider's suite-1 instance.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Proposal, RatchetTree } from "ts-mls";
import { engine } from "../../src/engine/ts-mls.js";
const { encode } = engine;
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import {
  addLeafNodeMutable,
  proposalDecoder,
  ratchetTreeDecoder,
  ratchetTreeEncoder,
  removeLeafNodeMutable,
  toLeafIndex,
  treeHashRoot,
  updateLeafNodeMutable,
} from "./ts-mls-internals.js";
import { hex, loadVectors, report, toHex } from "./vectors.test-util.js";

interface Case {
  cipher_suite: number; tree_before: string; tree_hash_before: string; proposal: string; proposal_sender: number;
  tree_after: string; tree_hash_after: string;
}

function apply(p: Proposal, tree: RatchetTree, sender: number): RatchetTree {
  const t = tree.slice();
  if ("add" in p) addLeafNodeMutable(t, p.add.keyPackage.leafNode);
  else if ("update" in p) updateLeafNodeMutable(t, p.update.leafNode, toLeafIndex(sender));
  else if ("remove" in p) removeLeafNodeMutable(t, toLeafIndex(p.remove.removed));
  else assert.fail(`unexpected proposal type ${p.proposalType}`);
  return t;
}

const v = loadVectors<Case>("tree-operations.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === 1 || c.cipher_suite === 3);
  report(v.file, v.cases.length, cases.length, "suite other than 1 or 3");
  describe("tree-operations.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i} (suite ${c.cipher_suite})`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const before = ratchetTreeDecoder(hex(c.tree_before), 0)?.[0];
        assert.ok(before);
        assert.equal(toHex(await treeHashRoot(before, cs.hash)), c.tree_hash_before);
        const proposal = proposalDecoder(hex(c.proposal), 0)?.[0];
        assert.ok(proposal);
        const after = apply(proposal, before, c.proposal_sender);
        assert.equal(toHex(encode(ratchetTreeEncoder, after)), c.tree_after);
        assert.equal(toHex(await treeHashRoot(after, cs.hash)), c.tree_hash_after);
      });
    });
  });
}
