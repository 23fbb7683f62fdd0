// The one private key a caller needs out of a stored private key package:
// the init key, to unwrap Welcomes addressed to that key package; and, for
// audits of storage, the node private keys a group state holds.
import { decodePrivateKeyPackage } from "../key-package.js";
import { engineOf, type GroupState } from "./group-state.js";

/** @throws MlsError `mls.malformed` */
export function privateInitKey(privateKeyPackage: Uint8Array): Uint8Array {
  return decodePrivateKeyPackage(privateKeyPackage).initPrivateKey;
}

/**
 * The private HPKE keys a group state holds for tree nodes, by node index
 * (RFC 9420 4.1: our leaf and nodes of our direct path). Contains secrets:
 * for tests and audits of storage, never for logs.
 */
export function nodePrivateKeysOf(state: GroupState): ReadonlyMap<number, Uint8Array> {
  return new Map(Object.entries(engineOf(state).privatePath.privateKeys).map(([index, key]) => [Number(index), key] as const));
}
