// The secrets from which message keys can still be derived: every node of
// the secret tree (RFC 9420 9) of the current epoch and of the past epochs
// kept for late application messages, with the skipped generations each
// ratchet holds. Forward secrecy (RFC 9420 9.2) is that a key, once used,
// is derivable from none of these; tests and audits of what a store keeps
// on disk compare them before and after a message is processed.
import type { SecretTree } from "ts-mls";
import { engineOf, type GroupState } from "./group-state.js";

function treeSecrets(tree: SecretTree): Uint8Array[] {
  const out: Uint8Array[] = Object.values(tree.intermediateNodes);
  for (const node of Object.values(tree.leafNodes)) {
    for (const ratchet of [node.handshake, node.application]) {
      out.push(ratchet.secret, ...Object.values(ratchet.unusedGenerations));
    }
  }
  return out;
}

/**
 * One sender's ratchet as a state holds it (RFC 9420 9.1): the next
 * generation and its secret, and what is kept for each generation skipped
 * over (9.2: that message's key and nonce only).
 */
export interface StoredRatchet {
  readonly epoch: bigint;
  readonly leafIndex: number;
  readonly content: "application" | "handshake";
  readonly generation: number;
  readonly secret: Uint8Array;
  readonly skipped: ReadonlyMap<number, Uint8Array>;
}

function treeRatchets(epoch: bigint, tree: SecretTree): StoredRatchet[] {
  const out: StoredRatchet[] = [];
  for (const [nodeIndex, node] of Object.entries(tree.leafNodes)) {
    for (const content of ["application", "handshake"] as const) {
      const ratchet = node[content];
      const skipped = new Map(Object.entries(ratchet.unusedGenerations).map(([g, v]) => [Number(g), v] as const));
      out.push({ epoch, leafIndex: Number(nodeIndex) / 2, content, generation: ratchet.generation, secret: ratchet.secret, skipped });
    }
  }
  return out;
}

/** Contains secrets: for tests and audits of storage, never for logs. */
export function storedRatchetsOf(state: GroupState): StoredRatchet[] {
  const engine = engineOf(state);
  const out = treeRatchets(engine.groupContext.epoch, engine.secretTree);
  for (const [epoch, past] of engine.historicalReceiverData) out.push(...treeRatchets(epoch, past.secretTree));
  return out;
}

/** Contains secrets: for tests and audits of storage, never for logs. */
export function ratchetSecretsOf(state: GroupState): Uint8Array[] {
  const engine = engineOf(state);
  const out = treeSecrets(engine.secretTree);
  for (const past of engine.historicalReceiverData.values()) out.push(...treeSecrets(past.secretTree));
  return out;
}
