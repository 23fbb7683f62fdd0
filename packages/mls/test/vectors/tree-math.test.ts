// tree-math.json (RFC 9420 4.2, appendix C): root, left, right, parent,
// sibling for every node of trees of n leaves. Suite-independent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { left, nodeWidth, parent, right, root, sibling, toNodeIndex } from "./ts-mls-internals.js";
import { loadVectors, report } from "./vectors.test-util.js";

interface Case {
  n_leaves: number; n_nodes: number; root: number;
  left: (number | null)[]; right: (number | null)[]; parent: (number | null)[]; sibling: (number | null)[];
}

function check(expected: (number | null)[], f: (i: number) => number, what: string): void {
  for (const [i, want] of expected.entries()) {
    if (want === null) assert.throws(() => f(i), `${what}(${i}) has none`);
    else assert.equal(f(i), want, `${what}(${i})`);
  }
}

const v = loadVectors<Case>("tree-math.json");
if (v !== undefined) {
  report(v.file, v.cases.length, v.cases.length, "");
  describe("tree-math.json", () => {
    v.cases.forEach((c, i) => {
      it(`case ${i} (${c.n_leaves} leaves)`, () => {
        assert.equal(nodeWidth(c.n_leaves), c.n_nodes);
        assert.equal(root(c.n_leaves), c.root);
        check(c.left, (n) => left(toNodeIndex(n)), "left");
        check(c.right, (n) => right(toNodeIndex(n)), "right");
        check(c.parent, (n) => parent(toNodeIndex(n), c.n_leaves), "parent");
        check(c.sibling, (n) => sibling(toNodeIndex(n), c.n_leaves), "sibling");
      });
    });
  });
}
