// treekem.json (RFC 9420 7.4-7.6): apply each UpdatePath, check the tree
// hash, decrypt the path secret from every other leaf and derive the commit
// secret; then make our own UpdatePath from the sender and check that every
// other leaf decrypts it to the same commit secret. Then the same on each
// vector tree with a member added first (12.4.1, as a commit adding members
// builds its path; src/engine/mends.ts): no ciphertext for the new
// leaf, every vector leaf still decrypts, and the new member derives the
// commit secret from its Welcome's path secret (12.4.3.1).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CiphersuiteImpl, RatchetTree } from "ts-mls";
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import {
  applyUpdatePath,
  addLeafNodeMutable,
  applyUpdatePathSecret,
  createUpdatePath,
  deriveSecret,
  filteredDirectPathAndCopathResolution,
  firstCommonAncestor,
  getCommitSecret,
  getHpkePublicKey,
  leafToNodeIndex,
  nodeToLeafIndex,
  ratchetTreeDecoder,
  toLeafIndex,
  toPrivateKeyPath,
  treeHashRoot,
  updatePathDecoder,
  type GroupContext,
  type PrivateKeyPath,
} from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface LeafPrivate { index: number; encryption_priv: string; signature_priv: string; path_secrets: { node: number; path_secret: string }[] }
interface Path { sender: number; update_path: string; path_secrets: (string | null)[]; commit_secret: string; tree_hash_after: string }
interface Case {
  cipher_suite: number; group_id: string; epoch: number; confirmed_transcript_hash: string; ratchet_tree: string;
  leaves_private: LeafPrivate[]; update_paths: Path[];
}

const v = loadVectors<Case>("treekem.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("treekem.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i} (${c.update_paths.length} paths)`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const tree = ratchetTreeDecoder(hex(c.ratchet_tree), 0)?.[0];
        assert.ok(tree);
        const gc: GroupContext = {
          version: 1,
          cipherSuite: c.cipher_suite,
          groupId: hex(c.group_id),
          epoch: BigInt(c.epoch),
          treeHash: await treeHashRoot(tree, cs.hash),
          confirmedTranscriptHash: hex(c.confirmed_transcript_hash),
          extensions: [],
        };
        const privatePaths = await privatePathsOf(c, tree, cs);
        for (const p of c.update_paths) {
          const up = updatePathDecoder(hex(p.update_path), 0)?.[0];
          assert.ok(up);
          const after = tree.slice();
          await applyUpdatePath(after, toLeafIndex(p.sender), up, cs.hash);
          const th = await treeHashRoot(after, cs.hash);
          assert.equal(toHex(th), p.tree_hash_after);
          const updated = { ...gc, treeHash: th };
          const sender = c.leaves_private.find((l) => l.index === p.sender);
          assert.ok(sender);
          const [ownTree, ownPath, ownSecrets] = await createUpdatePath(tree, after, toLeafIndex(p.sender), updated, hex(sender.signature_priv), cs);
          const rootSecret = ownSecrets[ownSecrets.length - 1]!;
          const ownCommitSecret = await deriveSecret(rootSecret.secret, "path", cs.kdf);
          const ownContext = { ...gc, treeHash: await treeHashRoot(ownTree, cs.hash), epoch: gc.epoch + 1n };
          for (const pp of privatePaths) {
            if (pp.leafIndex === p.sender) {
              assert.equal(p.path_secrets[pp.leafIndex], null);
              continue;
            }
            const got = await applyUpdatePathSecret(tree, pp, toLeafIndex(p.sender), updated, up, [], cs);
            assert.equal(toHex(got.pathSecret), p.path_secrets[pp.leafIndex]);
            assert.equal(toHex(await getCommitSecret(tree, got.nodeIndex, got.pathSecret, cs.kdf)), p.commit_secret);
            const mine = await applyUpdatePathSecret(tree, pp, toLeafIndex(p.sender), ownContext, ownPath, [], cs);
            assert.equal(toHex(await getCommitSecret(tree, mine.nodeIndex, mine.pathSecret, cs.kdf)), toHex(ownCommitSecret));
          }
        }
      });

      it(`case ${i}, each sender adding a member first`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const tree = ratchetTreeDecoder(hex(c.ratchet_tree), 0)?.[0];
        assert.ok(tree);
        const gc: GroupContext = {
          version: 1,
          cipherSuite: c.cipher_suite,
          groupId: hex(c.group_id),
          epoch: BigInt(c.epoch),
          treeHash: await treeHashRoot(tree, cs.hash),
          confirmedTranscriptHash: hex(c.confirmed_transcript_hash),
          extensions: [],
        };
        const privatePaths = await privatePathsOf(c, tree, cs);
        for (const p of c.update_paths) {
          const sender = c.leaves_private.find((l) => l.index === p.sender);
          const senderLeaf = tree[leafToNodeIndex(toLeafIndex(p.sender))];
          assert.ok(sender && senderLeaf?.nodeType === 1);
          // The new leaf's key is all a path reads of it; the rest is the sender's.
          const newcomer = await cs.hpke.generateKeyPair();
          const grown = tree.slice();
          const addedNode = addLeafNodeMutable(grown, { ...senderLeaf.leaf, hpkePublicKey: await cs.hpke.exportPublicKey(newcomer.publicKey) });
          const added = nodeToLeafIndex(addedNode);

          const [after, path, secrets] = await createUpdatePath(tree, grown, toLeafIndex(p.sender), gc, hex(sender.signature_priv), cs, [added]);
          const commitSecret = toHex(await deriveSecret(secrets[secrets.length - 1]!.secret, "path", cs.kdf));
          const context = { ...gc, treeHash: await treeHashRoot(after, cs.hash), epoch: gc.epoch + 1n };

          // One ciphertext per node of each copath resolution, the new leaf excepted.
          const fdp = filteredDirectPathAndCopathResolution(toLeafIndex(p.sender), after);
          assert.equal(path.nodes.length, fdp.length);
          fdp.forEach(({ resolution }, k) => {
            assert.equal(path.nodes[k]!.encryptedPathSecret.length, resolution.filter((n) => n !== addedNode).length);
          });
          assert.equal(fdp.filter(({ resolution }) => resolution.includes(addedNode)).length, 1, "the new leaf is in one resolution");

          for (const pp of privatePaths) {
            if (pp.leafIndex === p.sender) continue;
            const got = await applyUpdatePathSecret(after, pp, toLeafIndex(p.sender), context, path, [addedNode], cs);
            assert.equal(toHex(await getCommitSecret(after, got.nodeIndex, got.pathSecret, cs.kdf)), commitSecret);
          }

          // The Welcome's path secret: the one at the lowest common ancestor.
          const ancestor = firstCommonAncestor(after, added, toLeafIndex(p.sender));
          const welcomeSecret = secrets.find((s) => s.nodeIndex === ancestor);
          assert.ok(welcomeSecret);
          const { publicKey } = await cs.hpke.deriveKeyPair(await deriveSecret(welcomeSecret.secret, "node", cs.kdf));
          assert.equal(toHex(await cs.hpke.exportPublicKey(publicKey)), toHex(getHpkePublicKey(after[ancestor]!)));
          assert.equal(toHex(await getCommitSecret(after, ancestor, welcomeSecret.secret, cs.kdf)), commitSecret);
        }
      });
    });
  });
}

/** Each vector leaf's private keys; every path secret must derive the key the tree holds. */
async function privatePathsOf(c: Case, tree: RatchetTree, cs: CiphersuiteImpl): Promise<PrivateKeyPath[]> {
  const privatePaths: PrivateKeyPath[] = [];
  for (const leaf of c.leaves_private) {
    const secrets = Object.fromEntries(leaf.path_secrets.map((p) => [p.node, hex(p.path_secret)]));
    // Every path secret derives the public key the tree holds at that node.
    for (const [node, secret] of Object.entries(secrets)) {
      const { publicKey } = await cs.hpke.deriveKeyPair(await deriveSecret(secret, "node", cs.kdf));
      const treeNode: (typeof tree)[number] = tree[Number(node)];
      assert.ok(treeNode);
      assert.equal(toHex(await cs.hpke.exportPublicKey(publicKey)), toHex(getHpkePublicKey(treeNode)));
    }
    const pkp = await toPrivateKeyPath(secrets, leaf.index, cs);
    privatePaths.push({
      ...pkp,
      privateKeys: { ...pkp.privateKeys, [leafToNodeIndex(toLeafIndex(leaf.index))]: hex(leaf.encryption_priv) },
    });
  }
  return privatePaths;
}
