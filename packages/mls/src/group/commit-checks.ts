// Rules on the tree a commit leads to, run on the engine's result before it
// is accepted, so that every member reaches the same verdict on a commit
// and keeps no key the tree no longer uses:
// - RFC 9420 12.4.2: "verify that the derived public keys match" — every
//   private key we hold for a node must be the one of the public key the
//   tree has there. A committer who encrypts a member the right path secret
//   but publishes other public keys above it would leave that member unable
//   to read any later commit encrypted to those keys, while the others go on.
// - RFC 9420 7.3 (leaf node validation) and 7.9: an encryption key is unique
//   among all encryption keys in the ratchet tree. A commit whose UpdatePath
//   or Add brings a duplicate is refused where it appears, not at the next
//   commit (where the engine's own check would refuse every later commit).
// - RFC 9420 9.2 / 16.8 (deletion): the private key of a node the commit
//   blanked is dropped, and handed back to be erased.
// - RFC 9420 7.3 / 10.1: an added key package's lifetime covers the time of
//   the commit that adds it — the node's time of the commit's envelope, which
//   is the same for every member whenever it syncs, not the receiver's clock
//   at processing (a member syncing after the lifetime ran out would refuse
//   what the others applied).
// OpenMLS applies the first two when it processes an UpdatePath (treesync:
// the derived public key check, DuplicateEncryptionKey); libxmtp inherits them.
import type { ClientState, Proposal } from "ts-mls";
import { leafNodeSources, nodeTypes } from "../engine/ts-mls.js";
import { toHex } from "../crypto/bytes.js";
import { rawPublicOf } from "../crypto/okp-keys.js";
import { MlsError } from "../mls-error.js";

type TreeNode = ClientState["ratchetTree"][number];

/** Whether an Add among `proposals` carries a key package whose lifetime does not cover `atSeconds`. */
export function addsOutsideLifetime(proposals: readonly { readonly proposal: Proposal }[], atSeconds: bigint): boolean {
  return proposals.some(({ proposal }) => {
    if (!("add" in proposal)) return false;
    const leaf = proposal.add.keyPackage.leafNode;
    if (leaf.leafNodeSource !== leafNodeSources.key_package) return true;
    return leaf.lifetime.notBefore > atSeconds || leaf.lifetime.notAfter < atSeconds;
  });
}

function encryptionKeyOf(node: TreeNode): Uint8Array | undefined {
  if (node === undefined) return undefined;
  return node.nodeType === nodeTypes.leaf ? node.leaf.hpkePublicKey : node.parent.hpkePublicKey;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function publicOf(privateKey: Uint8Array): Uint8Array | undefined {
  try {
    return rawPublicOf("x25519", privateKey);
  } catch {
    return undefined;
  }
}

/**
 * The state without the private keys of blank nodes, and those keys (to
 * erase once the state is stored, and only if the state is kept).
 */
export function dropBlankedKeys(engine: ClientState): { engine: ClientState; dropped: Uint8Array[] } {
  const kept: Record<number, Uint8Array> = {};
  const dropped: Uint8Array[] = [];
  for (const [index, key] of Object.entries(engine.privatePath.privateKeys)) {
    if (engine.ratchetTree[Number(index)] === undefined) dropped.push(key);
    else kept[Number(index)] = key;
  }
  if (dropped.length === 0) return { engine, dropped };
  return { engine: { ...engine, privatePath: { ...engine.privatePath, privateKeys: kept } }, dropped };
}

/**
 * @throws MlsError `mls.invalid` when a private key we hold does not match
 *   its node's public key, or two nodes share an encryption key.
 */
export function assertTreeKeys(engine: ClientState): void {
  for (const [index, key] of Object.entries(engine.privatePath.privateKeys)) {
    const expected = encryptionKeyOf(engine.ratchetTree[Number(index)]);
    if (expected === undefined) continue;
    const derived = publicOf(key);
    if (derived === undefined || !sameBytes(derived, expected)) {
      throw new MlsError("mls.invalid", `commit: the public key of node ${index} does not match the path secret it delivers (RFC 9420 12.4.2)`);
    }
  }
  const seen = new Set<string>();
  for (const node of engine.ratchetTree) {
    const key = encryptionKeyOf(node);
    if (key === undefined) continue;
    const hex = toHex(key);
    if (seen.has(hex)) throw new MlsError("mls.invalid", "commit: an encryption key appears twice in the ratchet tree (RFC 9420 7.3)");
    seen.add(hex);
  }
}
