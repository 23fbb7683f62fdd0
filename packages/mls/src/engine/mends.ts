// The engine this package is verified against, and the mends it needs:
// exact texts in ts-mls 2.0.0-rc.10's dist and what replaces each. They are
// applied in memory as the engine's modules load (engine/ts-mls.ts), never
// by editing installed files, so no install flag, registry or copied
// node_modules can leave them out. A text that is not found exactly once
// stops the engine from loading: an upgrade can't pass silently. Upstream
// fixed the same gaps after rc.10 (rc.11-rc.13), but no later 2.x is on npm;
// moving to one is the step in this package's README ("Moving to a newer
// engine").

/** The npm package and the one version whose texts these are. */
export const ENGINE_PACKAGE = "ts-mls";
export const ENGINE_VERSION = "2.0.0-rc.10";

export interface EngineMend {
  /** A stable name, carried by the mended module so that load can check it. */
  readonly id: string;
  /** Path inside the engine's package. */
  readonly file: string;
  /** The exact text, found exactly once. */
  readonly find: string;
  readonly replace: string;
}

// 1. Which commits need an UpdatePath. RFC 9420 12.4 and 17.4: a Commit MUST
// carry one when it covers any Update, Remove or GroupContextExtensions
// proposal (or none at all). rc.10 asked for one only with two or more
// Updates or Removes and never for GroupContextExtensions, so a single
// removal left the removed member able to derive the next epoch, and OpenMLS
// (libxmtp) refused our metadata and add commits ("Unable to determine
// commit path": XMTP's add is Adds plus a GroupContextExtensions rewriting
// 0xFF01). The same rule decides what a received commit must carry. A commit
// we create that adds members always carries a path as well, as OpenMLS's
// add_members does: the committer's keys are refreshed whenever the group
// grows.
const updatePathRule: EngineMend = {
  id: "update-path-rule",
  file: "dist/src/clientState.js",
  find: `        const needsUpdatePath = allProposals.length === 0 ||
            Object.values(grouped[defaultProposalTypes.update]).length > 1 ||
            Object.values(grouped[defaultProposalTypes.remove]).length > 1;`,
  replace: `        const needsUpdatePath = allProposals.length === 0 ||
            grouped[defaultProposalTypes.update].length > 0 ||
            grouped[defaultProposalTypes.remove].length > 0 ||
            grouped[defaultProposalTypes.group_context_extensions].length > 0 ||
            (sentByClient && grouped[defaultProposalTypes.add].length > 0); /* parley: RFC 9420 12.4 */`,
};

// 2. RFC 9420 12.4.1-12.4.2: path secrets are encrypted to the provisional
// GroupContext, which carries the extensions a GroupContextExtensions
// proposal sets; rc.10's sender used the old context (its receiver uses the
// new one), so a GCE commit with a path could not be decrypted. (The text
// stops before the call's last argument, which mend 3 extends.)
const provisionalContext: EngineMend = {
  id: "provisional-context",
  file: "dist/src/createCommit.js",
  find: "createUpdatePath(state.ratchetTree, mutableTree, toLeafIndex(state.privatePath.leafIndex), state.groupContext, state.signaturePrivateKey",
  replace:
    "createUpdatePath(state.ratchetTree, mutableTree, toLeafIndex(state.privatePath.leafIndex), " +
    '{ ...state.groupContext, extensions: res.additionalResult.kind === "memberCommit" && res.additionalResult.extensions.length > 0 ' +
    "? res.additionalResult.extensions : state.groupContext.extensions } /* parley: provisional context */, state.signaturePrivateKey",
};

// 3. RFC 9420 12.4.1 and 7.5: the UpdatePath is computed on the tree after
// the proposals, new leaves included (they decide the filtered direct path),
// but the members an Add brings in are left out of every copath resolution
// the path secrets are encrypted to: they get the secret of our lowest
// common ancestor from the Welcome (GroupSecrets.path_secret, 12.4.3.1),
// which rc.10 already fills in. rc.10 encrypted to the whole resolution and
// looked the new leaves up in the tree before the Adds, where they are
// missing: createUpdatePath threw, so add commits could not carry a path.
// createCommit now passes the added leaves' indices to createUpdatePath.
const addedLeavesPassed: EngineMend = {
  id: "added-leaves-passed",
  file: "dist/src/createCommit.js",
  find: "/* parley: provisional context */, state.signaturePrivateKey, cipherSuite)",
  replace:
    "/* parley: provisional context */, state.signaturePrivateKey, cipherSuite, " +
    'res.additionalResult.kind === "memberCommit" ? res.additionalResult.addedLeafNodes.map(([leaf]) => leaf) : [] /* parley: new leaves */)',
};
const addedLeavesTaken: EngineMend = {
  id: "added-leaves-taken",
  file: "dist/src/updatePath.js",
  find: "export async function createUpdatePath(originalTree, mutableTree, senderLeafIndex, groupContext, signaturePrivateKey, cs) {",
  replace:
    "export async function createUpdatePath(originalTree, mutableTree, senderLeafIndex, groupContext, signaturePrivateKey, cs, newLeaves = [] /* parley: RFC 9420 12.4.1 */) {",
};
const addedLeavesExcluded: EngineMend = {
  id: "added-leaves-excluded",
  file: "dist/src/updatePath.js",
  find: "    const ps = await applyInitialTreeUpdate(fdp, pathSecret, senderLeafIndex, mutableTree, cs);",
  replace:
    "    const excluded = new Set(newLeaves.map((leaf) => leafToNodeIndex(leaf))); /* parley: new members take the path secret from the Welcome */\n" +
    "    const ps = await applyInitialTreeUpdate(fdp.map(({ nodeIndex, resolution }) => ({ nodeIndex, resolution: resolution.filter((n) => !excluded.has(n)) })), pathSecret, senderLeafIndex, mutableTree, cs);",
};

// 4. RFC 9420 12.4.1: the path secrets are encrypted to the public keys of
// the tree after the proposals. rc.10 read them from the tree before, which
// holds a removed member's key where an Add reuses its blank leaf, the keys
// of parent nodes a Remove blanks (which the removed member holds), and an
// updated member's old key; the copath nodes are never on our direct path,
// so the tree being built has exactly the keys the receivers hold.
const keysAfterProposals: EngineMend = {
  id: "keys-after-proposals",
  file: "dist/src/updatePath.js",
  find: 'const { ct, enc } = await encryptWithLabel(await cs.hpke.importPublicKey(getHpkePublicKey(originalTree[nodeIndex])), "UpdatePathNode"',
  replace:
    'const { ct, enc } = await encryptWithLabel(await cs.hpke.importPublicKey(getHpkePublicKey(updatedTree[nodeIndex] /* parley: tree after proposals */)), "UpdatePathNode"',
};

// 5. Not a correctness gap, a cost: parentHashCoverage (RFC 9420 7.9.2, run
// on every tree a joiner receives) computed each leaf's parent hash, a tree
// hash of a sibling subtree, before looking whether the leaf carries a
// parent hash to compare at all. Leaves from key packages carry none, so
// once add commits carry a path (a filled root) every new member's leaf
// hashed half the tree: quadratic, 46 ms to 350 ms for a 252-member join.
// The same checks, in the order that skips the hash when nothing is to be
// compared.
const coverageOrder: EngineMend = {
  id: "parent-hash-coverage-order",
  file: "dist/src/parentHash.js",
  find: `            // parentHashNodeIndex is the node index where the nearest non blank ancestor was
            const [parentHash, parentHashNodeIndex] = await calculateParentHash(tree, currentIndex, h);
            if (parentHashNodeIndex === undefined) {
                throw new InternalError("Reached root before completing parent hash coeverage");
            }
            const expectedParentHash = getParentHash(currentNode);
            if (expectedParentHash !== undefined && constantTimeEqual(parentHash, expectedParentHash)) {`,
  replace: `            const expectedParentHash = getParentHash(currentNode);
            if (expectedParentHash === undefined)
                break; /* parley: nothing to compare, so no tree hash to compute */
            // parentHashNodeIndex is the node index where the nearest non blank ancestor was
            const [parentHash, parentHashNodeIndex] = await calculateParentHash(tree, currentIndex, h);
            if (parentHashNodeIndex === undefined) {
                throw new InternalError("Reached root before completing parent hash coeverage");
            }
            if (constantTimeEqual(parentHash, expectedParentHash)) {`,
};

// 6. RFC 9420 9.2 (deletion schedule) and 15.3: a generation skipped over
// (a message withheld or reordered) keeps only that message's key and nonce,
// never the ratchet secret of its generation, from which every later secret
// of the chain derives. rc.10 kept the secret: one withheld message left the
// sender's whole chain, from that generation on, derivable from the stored
// state. The entry now holds key || nonce (nonce without its reuse guard,
// which each message carries); the ratchet secrets stepped over are handed
// back as consumed. An entry of the old form (a secret: kdf-size bytes,
// never key || nonce in a defined suite) in a state stored before still reads.
const skippedKeysOnly: EngineMend = {
  id: "skipped-keys-only",
  file: "dist/src/secretTree.js",
  find: "async function ratchetUntil(current, desiredGen, config, kdf) {",
  replace: "async function ratchetUntil(current, desiredGen, config, kdf, cs /* parley: RFC 9420 9.2 */) {",
};
const skippedKeysStored: EngineMend = {
  id: "skipped-keys-stored",
  file: "dist/src/secretTree.js",
  find: `        const [updated, old] = updateUnusedGenerations(result, config.retainKeysForGenerations);
        consumed.push(...old);`,
  replace: `        const skipped = await skippedKeyAndNonce(result.secret, result.generation, cs); /* parley: key and nonce, not the secret */
        const [updated, old] = updateUnusedGenerations({ ...result, secret: skipped }, config.retainKeysForGenerations);
        consumed.push(...old, result.secret);`,
};
const skippedKeysCall: EngineMend = {
  id: "skipped-keys-call",
  file: "dist/src/secretTree.js",
  find: "senderData.generation, config, cs.kdf);",
  replace: "senderData.generation, config, cs.kdf, cs /* parley: RFC 9420 9.2 */);",
};
const skippedKeysRead: EngineMend = {
  id: "skipped-keys-read",
  file: "dist/src/secretTree.js",
  find: "            return await createRatchetResultWithSecret(node, nodeIndex, desired, senderData.generation, senderData.reuseGuard, updatedTree, contentType, consumed, cs, ratchetState);",
  replace: "            return await createRatchetResultWithSkipped(node, nodeIndex, desired, senderData.generation, senderData.reuseGuard, updatedTree, contentType, consumed, cs, ratchetState); /* parley: RFC 9420 9.2 */",
};
const skippedKeysHelpers: EngineMend = {
  id: "skipped-keys-helpers",
  file: "dist/src/secretTree.js",
  find: "async function deriveNonce(secret, generation, cs) {",
  replace: `/* parley: RFC 9420 9.2, a skipped generation keeps key || nonce only */
async function skippedKeyAndNonce(secret, generation, cs) {
    const key = await deriveKey(secret, generation, cs);
    const nonce = await deriveNonce(secret, generation, cs);
    const out = new Uint8Array(key.length + nonce.length);
    out.set(key, 0);
    out.set(nonce, key.length);
    key.fill(0);
    nonce.fill(0);
    return out;
}
async function createRatchetResultWithSkipped(node, index, stored, generation, reuseGuard, tree, contentType, consumed, cs, ratchetState) {
    if (stored.length === cs.kdf.size)
        return await createRatchetResultWithSecret(node, index, stored, generation, reuseGuard, tree, contentType, consumed, cs, ratchetState);
    if (stored.length !== cs.hpke.keyLength + cs.hpke.nonceLength || reuseGuard.length < 4)
        throw new ValidationError("Skipped key or reuse guard of the wrong length");
    const key = stored.slice(0, cs.hpke.keyLength);
    const nonce = stored.slice(cs.hpke.keyLength);
    for (let i = 0; i < 4; i++)
        nonce[i] ^= reuseGuard[i];
    const newNode = contentType === contentTypes.application ? { ...node, application: ratchetState } : { ...node, handshake: ratchetState };
    const newTree = { ...tree, leafNodes: { ...tree.leafNodes, [index]: newNode } };
    return { generation, reuseGuard, nonce, key, newTree, consumed: [...consumed, key] };
}
async function deriveNonce(secret, generation, cs) {`,
};

// 7. RFC 9420 9.2 and 6.3.2: a ratchet generation encrypts one message only.
// createCommit encrypts the commit with our handshake ratchet of the current
// epoch and returns only the next epoch's state: the current one, which
// stays in use until the commit wins, still held the generation used. A
// commit rebuilt in the same epoch (the first never showed up in the node's
// order) reused it, with the same key. The advanced secret tree now comes
// back with the result, to be stored in the current state before publishing.
const commitSenderTree: EngineMend = {
  id: "commit-sender-tree",
  file: "dist/src/createCommit.js",
  find: "    return { newState, welcome: mlsWelcome, commit, consumed };",
  replace: "    return { newState, welcome: mlsWelcome, commit, consumed, senderSecretTree: _newTree /* parley: RFC 9420 9.2 */ };",
};

// 8. A commit that removes the receiver (RFC 9420 12.4.2, 12.2): the
// removed member gets no path secret, so rc.10 failed at decrypting the
// UpdatePath (and we stopped before it, at the proposals). The removed
// member must first refuse exactly what the others refuse: the UpdatePath's
// leaf and parent hashes, the tree it leads to, the group's rules on the new
// extensions and membership. So the commit is processed through every public
// step; only what needs the path secret is left out: no private keys, no
// commit secret (the key schedule of the state returned is not the epoch's
// and is never used: the state is marked removed), and the confirmation tag,
// which only members who can derive the epoch can check.
const removedReceiverFlag: EngineMend = {
  id: "removed-receiver-flag",
  file: "dist/src/processMessages.js",
  find: '    const action = callback({ kind: "commit", senderLeafIndex, proposals: result.allProposals });',
  replace:
    '    const action = callback({ kind: "commit", senderLeafIndex, proposals: result.allProposals });\n' +
    '    const removedReceiver = result.allProposals.some((p) => "remove" in p.proposal && p.proposal.remove.removed === state.privatePath.leafIndex); /* parley: RFC 9420 12.4.2 */',
};
const removedReceiverPassed: EngineMend = {
  id: "removed-receiver-passed",
  file: "dist/src/processMessages.js",
  find: "        : [findBlankLeafNodeIndex(mutableTree) ?? toNodeIndex(mutableTree.length + 1)], cs.kdf);",
  replace: "        : [findBlankLeafNodeIndex(mutableTree) ?? toNodeIndex(mutableTree.length + 1)], cs.kdf, removedReceiver /* parley */);",
};
const removedReceiverPath: EngineMend = {
  id: "removed-receiver-path",
  file: "dist/src/processMessages.js",
  find: `async function applyTreeUpdate(path, sender, mutableTree, cs, state, groupContext, excludeNodes, kdf) {`,
  replace: `async function applyTreeUpdate(path, sender, mutableTree, cs, state, groupContext, excludeNodes, kdf, removedReceiver = false) {`,
};
const removedReceiverNoSecret: EngineMend = {
  id: "removed-receiver-no-secret",
  file: "dist/src/processMessages.js",
  find: `    if (sender.senderType === senderTypes.member) {
        await applyUpdatePath(mutableTree, toLeafIndex(sender.leafIndex), path, cs.hash);
        const newTreeHash = await treeHashRoot(mutableTree, cs.hash);
`,
  replace: `    if (sender.senderType === senderTypes.member) {
        await applyUpdatePath(mutableTree, toLeafIndex(sender.leafIndex), path, cs.hash);
        const newTreeHash = await treeHashRoot(mutableTree, cs.hash);
        if (removedReceiver) /* parley: no path secret for a removed member */
            return [{ leafIndex: state.privatePath.leafIndex, privateKeys: {} }, new Uint8Array(kdf.size), newTreeHash];
`,
};
const removedReceiverNoTag: EngineMend = {
  id: "removed-receiver-no-tag",
  file: "dist/src/processMessages.js",
  find: `    if (!confirmationTagValid)
        throw new CryptoVerificationError("Could not verify confirmation tag");
    const secretTree = createSecretTree(`,
  replace: `    if (!confirmationTagValid && !removedReceiver /* parley: the removed member cannot derive the epoch */)
        throw new CryptoVerificationError("Could not verify confirmation tag");
    const secretTree = createSecretTree(`,
};

/** In the order they apply: a later mend of one file may find an earlier one's text. */
export const ENGINE_MENDS: readonly EngineMend[] = [
  updatePathRule,
  provisionalContext,
  addedLeavesPassed,
  addedLeavesTaken,
  addedLeavesExcluded,
  keysAfterProposals,
  coverageOrder,
  skippedKeysOnly,
  skippedKeysStored,
  skippedKeysCall,
  skippedKeysRead,
  skippedKeysHelpers,
  commitSenderTree,
  removedReceiverFlag,
  removedReceiverPassed,
  removedReceiverPath,
  removedReceiverNoSecret,
  removedReceiverNoTag,
];

/** The mends of each file, in order. */
export function mendsByFile(mends: readonly EngineMend[] = ENGINE_MENDS): Record<string, EngineMend[]> {
  const files: Record<string, EngineMend[]> = {};
  for (const mend of mends) (files[mend.file] ??= []).push(mend);
  return files;
}
