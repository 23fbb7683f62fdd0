// The key under which the local store holds a conversation, separate from
// its MLS group id (RFC 9420 8.1 `group_id`; ../shared/spec/xmtp-client.md
// section 2.5). A group id is whatever a group's creator wrote, so two
// different groups can carry the same one: a squatter's group that reached
// us first, and the real group we were invited to later
// (known-group-welcome.ts). Each group we hold gets its own local key:
//
// - the first group held under an MLS group id is stored under the group
//   id itself, so stores written before two groups could share an id need
//   no migration, and its conversation id (hex of the local key) is the
//   official SDK's (hex of the group id);
// - a later, different group on the same id is stored under
//   group id || 0x00 || 8 random bytes. The bytes are random so that no
//   group's maker can choose the key another group gets.
//
// Naming rule in this package: `localKey` is what the local store is keyed
// by (the `group_id` column of every table, message ids, conversation ids);
// `groupId` is the MLS group id, for everything that reaches the node or the
// engine (the group's topic, message queries and filters, the commit log).
// A group's MLS id is taken from its state, never from a local key: a local
// key of one group can begin with another group's id.
import { randomBytes } from "node:crypto";
import { decodeGroupState } from "@parley/mls";
import type { LocalStore, GroupRow } from "../store/local-store.js";

/** The local store's key of a held group (see the header). */
export type LocalKey = Uint8Array & { readonly __localKey: true };

/** The bytes a later group's key adds after the group id. */
const SUFFIX_RANDOM_BYTES = 8;

/** A key read back from the store (or a conversation id given by the app). */
export const asLocalKey = (bytes: Uint8Array): LocalKey => bytes as LocalKey;

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

const onGroupId = (rows: readonly GroupRow[], groupId: Uint8Array) => rows.filter((row) => sameBytes(decodeGroupState(row.state).groupId, groupId));

/** Every group we hold whose MLS group id is `groupId`, the first holder first. */
export function heldOnGroupId(store: LocalStore, groupId: Uint8Array): GroupRow[] {
  return onGroupId(store.groupsByKeyPrefix(groupId, SUFFIX_RANDOM_BYTES + 1), groupId);
}

/** Whether we hold more than one group on `groupId`; states are decoded only when the keys say it can be so. */
export function holdsSeveral(store: LocalStore, groupId: Uint8Array): boolean {
  const candidates = store.groupsByKeyPrefix(groupId, SUFFIX_RANDOM_BYTES + 1);
  return candidates.length > 1 && onGroupId(candidates, groupId).length > 1;
}

/**
 * The local key for a group we are about to store: the group id when no
 * group held under it, else a fresh suffixed key no row holds yet.
 */
export function newLocalKey(store: LocalStore, groupId: Uint8Array): LocalKey {
  if (store.group(groupId) === undefined) return asLocalKey(groupId.slice());
  for (;;) {
    const key = new Uint8Array(groupId.length + 1 + SUFFIX_RANDOM_BYTES);
    key.set(groupId);
    key.set(randomBytes(SUFFIX_RANDOM_BYTES), groupId.length + 1);
    if (store.group(key) === undefined) return asLocalKey(key);
  }
}
