// Merging a commit of our own once the node's order shows it won its epoch
// (RFC 9420 12.4, 9.2). The state it leads to was staged when the commit
// was built, with a copy of the secret trees of the epochs it keeps for late
// application messages (ours at that moment). Messages of the old epoch
// read between building and merging used keys of those trees, and the
// copies still hold them: merged as staged, the state would bring back
// every key used since (a node need only order a member's message before
// our commit). The staged state's past epochs therefore take the secret
// trees of the state we are in now, which erased each key as it was used.
import type { ClientState } from "ts-mls";
import { engineOf, wrapState, type GroupState } from "./group-state.js";

type EpochData = ClientState["historicalReceiverData"] extends Map<bigint, infer D> ? D : never;

/**
 * The staged state of our commit, to be stored as the group's state in place
 * of `current`, with the secret trees of its past epochs taken from `current`.
 * An epoch `current` no longer holds is dropped rather than restored.
 */
export function mergeOwnCommit(current: GroupState, staged: GroupState): GroupState {
  const now = engineOf(current);
  const next = engineOf(staged);
  const history = new Map<bigint, EpochData>();
  for (const [epoch, data] of next.historicalReceiverData) {
    const tree = epoch === now.groupContext.epoch ? now.secretTree : now.historicalReceiverData.get(epoch)?.secretTree;
    if (tree !== undefined) history.set(epoch, { ...data, secretTree: tree });
  }
  return wrapState({ ...next, historicalReceiverData: history });
}
