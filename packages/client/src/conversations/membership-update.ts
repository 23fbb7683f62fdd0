// Building a membership update (../shared/spec/xmtp-client.md sections 3.3
// and 3.4; libxmtp UpdateGroupMembership): every inbox of the group, and
// the ones being added, re-pinned to its latest identity sequence id; the
// installations that implies (membership-rules.ts) added with their key
// packages (checked in added-key-packages.ts) and removed by leaf;
// installations without a key package that passes listed as failed. With
// no inbox added or removed it is the periodic membership check
// (`maybe_update_installations`): members' new installations join and
// revoked ones leave.
import { groupExtensions, groupMembers, type GroupState } from "@parley/mls";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import { fetchInboxHistories, installationsOf } from "../identity/inbox-history.js";
import { encodeMembership } from "./group-metadata.js";
import { fetchAddedKeyPackages } from "./added-key-packages.js";
import { decodeMembershipMap, expectedInstallationDiff, stateAtNewPin, type HistoryLookup } from "./membership-rules.js";

/** libxmtp SYNC_UPDATE_INSTALLATIONS_INTERVAL_NS: the check on sync, every 30 minutes. */
export const SYNC_UPDATE_INSTALLATIONS_INTERVAL_NS = 30n * 60n * 1_000_000_000n;
/** libxmtp SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS: before a send, if 5 s have passed. */
export const SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS = 5n * 1_000_000_000n;

export interface MembershipPlan {
  /** The new 0xFF01 payload. */
  readonly membership: Uint8Array;
  /** Key packages of the installations to add. */
  readonly add: Uint8Array[];
  /** Installation keys of the leaves to remove. */
  readonly remove: Uint8Array[];
  /** False when the commit would change nothing: no pin, leaf or failure moves. */
  readonly changed: boolean;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));

/**
 * Plans one membership commit on `state`.
 *
 * @throws ClientError `client.not_found` for an inbox to add with no
 *   identity or with no installation that has a key package that passes
 *   (added-key-packages.ts);
 *   `client.bad_response`, `client.network`, `client.identity`.
 */
export async function planMembershipUpdate(
  ctx: ClientContext,
  state: GroupState,
  change: { readonly addInboxes?: readonly string[]; readonly removeInboxes?: readonly string[] } = {},
  lookup: HistoryLookup = (ids) => fetchInboxHistories(ctx.api, ids, ctx.inboxLogs),
): Promise<MembershipPlan> {
  const addInboxes = change.addInboxes ?? [];
  const removeInboxes = new Set(change.removeInboxes ?? []);
  const before = decodeMembershipMap(groupExtensions(state).membership);
  const inboxes = [...new Set([...before.members.keys(), ...addInboxes])].filter((id) => !removeInboxes.has(id));
  const histories = await lookup([...inboxes, ...removeInboxes]);

  const members = new Map<string, bigint>();
  for (const inboxId of inboxes) {
    const old = before.members.get(inboxId);
    const latest = histories.get(inboxId)?.latest.sequenceId;
    if (latest === undefined) {
      if (old === undefined) throw new ClientError("client.not_found", `inbox ${inboxId} has no identity`);
      members.set(inboxId, old);
      continue;
    }
    members.set(inboxId, old !== undefined && latest < old ? old : latest);
  }
  const diff = expectedInstallationDiff(before, { members, failed: before.failed }, histories);
  if ("missing" in diff) throw new ClientError("client.not_found", `inbox ${diff.missing} has no identity`);

  const tree = groupMembers(state);
  const inTree = new Set(tree.map((m) => hex(m.installationKey)));
  const self = hex(ctx.installationKey);
  const toAdd = [...diff.added].filter((key) => key !== self && !inTree.has(key));
  // Each installation to add with the inbox whose state at its new pin lists
  // it (the diff is read from those same states, so every one has an inbox):
  // its key package must be that installation's, of that inbox.
  const owners = new Map<string, string>();
  for (const [inboxId, seq] of members) {
    const history = histories.get(inboxId);
    if (history === undefined) continue;
    for (const key of installationsOf(stateAtNewPin(history, seq))) owners.set(key, inboxId);
  }
  const wanted = toAdd.flatMap((installationKey) => {
    const inboxId = owners.get(installationKey);
    return inboxId === undefined ? [] : [{ installationKey, inboxId }];
  });
  const { add, failed: newlyFailed } = await fetchAddedKeyPackages(ctx, state.groupId, wanted, histories);

  // An installation that failed earlier and is now revoked is neither
  // failed nor removed any more (it never had a leaf): as libxmtp does.
  const failed = new Set([...before.failed, ...newlyFailed]);
  const removed = new Set(diff.removed);
  for (const key of [...failed]) {
    if (removed.has(key)) {
      failed.delete(key);
      removed.delete(key);
    }
  }
  const joining = new Set([...toAdd.filter((key) => !newlyFailed.includes(key)), ...inTree]);
  for (const inboxId of addInboxes) {
    if (before.members.has(inboxId)) continue;
    const installations = installationsOf(histories.get(inboxId)?.latest);
    if (![...installations].some((key) => joining.has(key))) {
      throw new ClientError("client.not_found", `no installation of inbox ${inboxId} has a key package`);
    }
  }
  // Our own installation revoked: that commit is for another member to
  // make (libxmtp: "Cannot remove own leaf node").
  if (removed.has(self)) return { membership: groupExtensions(state).membership, add: [], remove: [], changed: false };
  const remove = tree.filter((m) => removed.has(hex(m.installationKey))).map((m) => m.installationKey);
  const failedList = [...failed].sort();
  const repinned = [...members].some(([id, seq]) => before.members.get(id) !== seq) || members.size !== before.members.size;
  const failedChanged = failedList.length !== before.failed.size || failedList.some((k) => !before.failed.has(k));
  return {
    membership: encodeMembership(members, failedList.map(fromHex)),
    add,
    remove,
    changed: add.length > 0 || remove.length > 0 || repinned || failedChanged,
  };
}

