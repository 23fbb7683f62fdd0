// Stored states written before the engine mend skipped-keys-* (engine/
// mends.ts) hold, for a ratchet generation skipped over, the ratchet secret
// of that generation, from which every later secret of the sender's chain
// derives (RFC 9420 9.1). On load each such entry becomes what the mended
// engine keeps: that generation's key and nonce only (RFC 9420 9.2), so the
// next time the state is stored the chain secrets leave the disk.
import type { ClientState, SecretTree } from "ts-mls";
import { aeadKeyLength, NONCE_LENGTH } from "../crypto/aead.js";
import { concat, i2osp, utf8 } from "../crypto/bytes.js";
import { HASH_LENGTH, hkdfExpand } from "../crypto/hkdf.js";
import { CIPHERSUITE } from "../xmtp/profile.js";
import { vector } from "../tls.js";

const KEY_LENGTH = aeadKeyLength("CHACHA20POLY1305");

/** RFC 9420 9.1 DeriveTreeSecret(secret, label, generation, length). */
function deriveTreeSecret(secret: Uint8Array, label: string, generation: number, length: number): Uint8Array {
  return hkdfExpand(secret, concat(i2osp(length, 2), vector(utf8(`MLS 1.0 ${label}`)), vector(i2osp(generation, 4))), length);
}

function migrateTree(tree: SecretTree): SecretTree {
  const leafNodes: SecretTree["leafNodes"] = {};
  for (const [index, node] of Object.entries(tree.leafNodes)) {
    const [handshake, application] = [node.handshake, node.application].map((ratchet) => {
      const unusedGenerations: typeof ratchet.unusedGenerations = {};
      for (const [g, entry] of Object.entries(ratchet.unusedGenerations)) {
        const generation = Number(g);
        if (entry.length !== HASH_LENGTH) {
          unusedGenerations[generation] = entry;
          continue;
        }
        // Not zeroed here: the entry may be a view of the caller's bytes.
        unusedGenerations[generation] = concat(deriveTreeSecret(entry, "key", generation, KEY_LENGTH), deriveTreeSecret(entry, "nonce", generation, NONCE_LENGTH));
      }
      return { ...ratchet, unusedGenerations };
    });
    leafNodes[Number(index)] = { handshake: handshake!, application: application! };
  }
  return { ...tree, leafNodes };
}

/** The state with every skipped-generation entry as key || nonce (suite 3; another suite is left as it is). */
export function migrateSkippedSecrets(engine: ClientState): ClientState {
  if (engine.groupContext.cipherSuite !== CIPHERSUITE) return engine;
  const historicalReceiverData = new Map([...engine.historicalReceiverData].map(([epoch, data]) => [epoch, { ...data, secretTree: migrateTree(data.secretTree) }] as const));
  return { ...engine, secretTree: migrateTree(engine.secretTree), historicalReceiverData };
}
