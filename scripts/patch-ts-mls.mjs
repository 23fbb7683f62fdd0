// Mends ts-mls 2.0.0-rc.10 after install (run by the root package's
// postinstall): five mends, seven small edits in its dist, each checked
// against the exact text it replaces. The patch refuses to run against any
// other text or version, so an upgrade can't pass silently. Upstream fixed
// the same gaps after rc.10 (rc.11-rc.13), but no later 2.x is on npm.
//
// 1. clientState.js, which commits need an UpdatePath. RFC 9420 12.4 and
//    17.4: a Commit MUST carry one when it covers any Update, Remove or
//    GroupContextExtensions proposal (or none at all). rc.10 asked for one
//    only with two or more Updates or Removes and never for
//    GroupContextExtensions, so a single removal left the removed member able
//    to derive the next epoch, and OpenMLS (libxmtp) refused our metadata and
//    add commits ("Unable to determine commit path": XMTP's add is Adds plus
//    a GroupContextExtensions rewriting 0xFF01). The same rule decides what a
//    received commit must carry. A commit we create that adds members always
//    carries a path as well, as OpenMLS's add_members does: the committer's
//    keys are refreshed whenever the group grows.
// 2-4. createCommit.js and updatePath.js, how the path is built (below).
// 5. parentHash.js, a cost rather than a gap: the order of two checks (below).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const EXPECTED_VERSION = "2.0.0-rc.10";
const BROKEN = `        const needsUpdatePath = allProposals.length === 0 ||
            Object.values(grouped[defaultProposalTypes.update]).length > 1 ||
            Object.values(grouped[defaultProposalTypes.remove]).length > 1;`;
const MENDED = `        const needsUpdatePath = allProposals.length === 0 ||
            grouped[defaultProposalTypes.update].length > 0 ||
            grouped[defaultProposalTypes.remove].length > 0 ||
            grouped[defaultProposalTypes.group_context_extensions].length > 0 ||
            (sentByClient && grouped[defaultProposalTypes.add].length > 0); /* parley: RFC 9420 12.4, see patch-ts-mls.mjs */`;

// 2. RFC 9420 12.4.1-12.4.2: path secrets are encrypted to the provisional
// GroupContext, which carries the extensions a GroupContextExtensions
// proposal sets; rc.10's sender used the old context (its receiver uses the
// new one), so a GCE commit with a path could not be decrypted.
// (The texts stop before the call's last argument, which mend 3 extends.)
const COMMIT_BROKEN = "createUpdatePath(state.ratchetTree, mutableTree, toLeafIndex(state.privatePath.leafIndex), state.groupContext, state.signaturePrivateKey";
const COMMIT_MENDED =
  "createUpdatePath(state.ratchetTree, mutableTree, toLeafIndex(state.privatePath.leafIndex), " +
  "{ ...state.groupContext, extensions: res.additionalResult.kind === \"memberCommit\" && res.additionalResult.extensions.length > 0 " +
  "? res.additionalResult.extensions : state.groupContext.extensions } /* parley: provisional context */, state.signaturePrivateKey";

// 3. RFC 9420 12.4.1 and 7.5: the UpdatePath is computed on the tree after
// the proposals, new leaves included (they decide the filtered direct path),
// but the members an Add brings in are left out of every copath resolution
// the path secrets are encrypted to: they get the secret of our lowest
// common ancestor from the Welcome (GroupSecrets.path_secret, 12.4.3.1),
// which rc.10 already fills in. rc.10 encrypted to the whole resolution and
// looked the new leaves up in the tree before the Adds, where they are
// missing: createUpdatePath threw, so add commits could not carry a path.
// createCommit now passes the added leaves' indices to createUpdatePath.
const ADDED_BROKEN = "/* parley: provisional context */, state.signaturePrivateKey, cipherSuite)";
const ADDED_MENDED =
  "/* parley: provisional context */, state.signaturePrivateKey, cipherSuite, " +
  "res.additionalResult.kind === \"memberCommit\" ? res.additionalResult.addedLeafNodes.map(([leaf]) => leaf) : [] /* parley: new leaves */)";
const PATH_SIGNATURE_BROKEN =
  "export async function createUpdatePath(originalTree, mutableTree, senderLeafIndex, groupContext, signaturePrivateKey, cs) {";
const PATH_SIGNATURE_MENDED =
  "export async function createUpdatePath(originalTree, mutableTree, senderLeafIndex, groupContext, signaturePrivateKey, cs, newLeaves = [] /* parley: RFC 9420 12.4.1 */) {";
const PATH_EXCLUDE_BROKEN =
  "    const ps = await applyInitialTreeUpdate(fdp, pathSecret, senderLeafIndex, mutableTree, cs);";
const PATH_EXCLUDE_MENDED =
  "    const excluded = new Set(newLeaves.map((leaf) => leafToNodeIndex(leaf))); /* parley: new members take the path secret from the Welcome */\n" +
  "    const ps = await applyInitialTreeUpdate(fdp.map(({ nodeIndex, resolution }) => ({ nodeIndex, resolution: resolution.filter((n) => !excluded.has(n)) })), pathSecret, senderLeafIndex, mutableTree, cs);";

// 4. RFC 9420 12.4.1: the path secrets are encrypted to the public keys of
// the tree after the proposals. rc.10 read them from the tree before, which
// holds a removed member's key where an Add reuses its blank leaf and an
// updated member's old key; the copath nodes are never on our direct path,
// so the tree being built has exactly the keys the receivers hold.
const PATH_KEYS_BROKEN =
  "const { ct, enc } = await encryptWithLabel(await cs.hpke.importPublicKey(getHpkePublicKey(originalTree[nodeIndex])), \"UpdatePathNode\"";
const PATH_KEYS_MENDED =
  "const { ct, enc } = await encryptWithLabel(await cs.hpke.importPublicKey(getHpkePublicKey(updatedTree[nodeIndex] /* parley: tree after proposals */)), \"UpdatePathNode\"";

// Not a correctness gap, a cost: parentHashCoverage (RFC 9420 7.9.2, run on
// every tree a joiner receives) computed each leaf's parent hash, a tree
// hash of a sibling subtree, before looking whether the leaf carries a
// parent hash to compare at all. Leaves from key packages carry none, so
// once add commits carry a path (a filled root) every new member's leaf
// hashed half the tree: quadratic, 46 ms to 350 ms for a 252-member join.
// The same checks, in the order that skips the hash when nothing is to be
// compared.
const COVERAGE_BROKEN = `            // parentHashNodeIndex is the node index where the nearest non blank ancestor was
            const [parentHash, parentHashNodeIndex] = await calculateParentHash(tree, currentIndex, h);
            if (parentHashNodeIndex === undefined) {
                throw new InternalError("Reached root before completing parent hash coeverage");
            }
            const expectedParentHash = getParentHash(currentNode);
            if (expectedParentHash !== undefined && constantTimeEqual(parentHash, expectedParentHash)) {`;
const COVERAGE_MENDED = `            const expectedParentHash = getParentHash(currentNode);
            if (expectedParentHash === undefined)
                break; /* parley: nothing to compare, so no tree hash to compute */
            // parentHashNodeIndex is the node index where the nearest non blank ancestor was
            const [parentHash, parentHashNodeIndex] = await calculateParentHash(tree, currentIndex, h);
            if (parentHashNodeIndex === undefined) {
                throw new InternalError("Reached root before completing parent hash coeverage");
            }
            if (constantTimeEqual(parentHash, expectedParentHash)) {`;

function mend(file, broken, mended, what) {
  const text = readFileSync(file, "utf8");
  if (text.includes(mended)) return console.log(`patch-ts-mls: ${what}: already applied`);
  if (!text.includes(broken)) {
    console.error(`patch-ts-mls: ${what}: the expected code was not found in ts-mls; refusing to guess`);
    process.exit(1);
  }
  writeFileSync(file, text.replace(broken, mended));
  console.log(`patch-ts-mls: ${what}: applied`);
}

const require = createRequire(join(process.cwd(), "packages/mls/package.json"));
let entry;
try {
  entry = require.resolve("ts-mls");
} catch {
  console.log("patch-ts-mls: ts-mls is not installed; nothing to do");
  process.exit(0);
}
let root = dirname(entry);
while (!root.endsWith("ts-mls")) root = dirname(root);
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
if (version !== EXPECTED_VERSION) {
  console.error(`patch-ts-mls: ts-mls is ${version}, the patch is for ${EXPECTED_VERSION}: check whether it is still needed`);
  process.exit(1);
}
const file = join(root, "dist/src/clientState.js");
const source = readFileSync(file, "utf8");
const PREVIOUS = / {8}const needsUpdatePath = allProposals\.length === 0 \|\|[\s\S]*?\/\* parley: RFC 9420 12\.4[^*]*\*\//;
if (source.includes(MENDED)) {
  console.log("patch-ts-mls: already applied");
} else if (source.includes(BROKEN) || PREVIOUS.test(source)) {
  writeFileSync(file, source.includes(BROKEN) ? source.replace(BROKEN, MENDED) : source.replace(PREVIOUS, MENDED));
  console.log("patch-ts-mls: UpdatePath rule of RFC 9420 12.4 applied");
} else {
  console.error("patch-ts-mls: the expected code was not found in ts-mls; refusing to guess");
  process.exit(1);
}
mend(join(root, "dist/src/createCommit.js"), COMMIT_BROKEN, COMMIT_MENDED, "provisional context for UpdatePath encryption");
mend(join(root, "dist/src/createCommit.js"), ADDED_BROKEN, ADDED_MENDED, "added leaves passed to createUpdatePath");
mend(join(root, "dist/src/updatePath.js"), PATH_SIGNATURE_BROKEN, PATH_SIGNATURE_MENDED, "createUpdatePath takes the added leaves");
mend(join(root, "dist/src/updatePath.js"), PATH_EXCLUDE_BROKEN, PATH_EXCLUDE_MENDED, "added leaves left out of the path's resolutions");
mend(join(root, "dist/src/updatePath.js"), PATH_KEYS_BROKEN, PATH_KEYS_MENDED, "path secrets encrypted to the tree after proposals");
mend(join(root, "dist/src/parentHash.js"), COVERAGE_BROKEN, COVERAGE_MENDED, "parent-hash coverage skips leaves with nothing to compare");
