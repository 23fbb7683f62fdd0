// Receiving a group message (RFC 9420 6, 12.4.2) under XMTP's policy
// (xmtp-client.md 1.1, 3.8): only PrivateMessages; application messages from
// up to MAX_PAST_EPOCHS epochs back; handshake messages only for the current
// epoch; changes only in commits, by value: a standalone proposal is
// refused, never stored, so no commit can carry it by reference (RFC 9420
// 12.1, 12.4). Expected outcomes of untrusted input (another epoch, a
// standalone proposal) are returned as tagged results; broken input throws
// MlsError.
import type { ClientState, PrivateMessage } from "ts-mls";
import { contentTypes, defaultProposalTypes, nodeTypes, processPrivateMessage, wireformats } from "../engine/ts-mls.js";
import { refusedMemberError, type AuthenticateMember } from "../authentication.js";
import { guard } from "../engine-errors.js";
import { decodeFramedMessage } from "../framing.js";
import { MlsError } from "../mls-error.js";
import { inboxIdOfCredential, installationKeyOfLeaf } from "../xmtp/credential.js";
import { MAX_PAST_EPOCHS, MAXIMUM_FORWARD_DISTANCE } from "../xmtp/profile.js";
import { addsOutsideLifetime, assertTreeKeys, dropBlankedKeys } from "./commit-checks.js";
import type { Consumed } from "./consumed.js";
import { engineContext, engineOf, groupMembers, wrapState, type GroupMember, type GroupState } from "./group-state.js";
import { openSenderData, senderLeafIndex } from "./sender-data.js";

export type ProcessResult =
  | {
      readonly kind: "application";
      readonly state: GroupState;
      readonly plaintext: Uint8Array;
      /** Undefined only if the sender's leaf can no longer be found. */
      readonly sender: GroupMember | undefined;
      readonly epoch: bigint;
      /** The receiving ratchet's used secret: erase once `state` is stored. */
      readonly consumed: Consumed;
    }
  | {
      readonly kind: "commit";
      readonly state: GroupState;
      readonly committer: GroupMember | undefined;
      readonly added: readonly GroupMember[];
      readonly removed: readonly GroupMember[];
      /** True when the group context extensions changed (metadata, membership map, permissions). */
      readonly extensionsChanged: boolean;
      /** True when the commit removed us: the state is now inactive. */
      readonly removedSelf: boolean;
      /**
       * The tree and group context the commit leads to, for the group's rules
       * (membership, permissions): `state` itself, except when the commit
       * removed us, where `state` stays on the old epoch, marked removed.
       */
      readonly after: GroupState;
      /**
       * Installations the commit removes and adds back in the same commit
       * (fork recovery, which XMTP allows only to super admins); a tree
       * comparison cannot see them.
       */
      readonly readded: readonly GroupMember[];
      /** The old epoch's secrets: erase once `state` is stored, and only if the commit is kept. */
      readonly consumed: Consumed;
    }
  | {
      /**
       * A standalone proposal: XMTP never sends one (xmtp-client.md 3.3,
       * 3.7: every change is a commit carrying its proposals by value), so
       * it is refused and never stored for a later commit to reference.
       * `state` only moves the sender's handshake ratchet past it.
       */
      readonly kind: "proposal_refused";
      readonly state: GroupState;
      readonly proposer: GroupMember | undefined;
      readonly proposalType: number;
      /** The handshake key the proposal used: erase once `state` is stored. */
      readonly consumed: Consumed;
    }
  | {
      /**
       * A commit or proposal signed by our own leaf (its signature checked):
       * not one the caller recognised as its own, so another holder of our
       * signature key made it. Not applied.
       */
      readonly kind: "from_own_leaf";
      readonly epoch: bigint;
    }
  | {
      /** Not for this epoch (a lost commit race, or too old): skip it, advance the cursor. */
      readonly kind: "wrong_epoch";
      readonly messageEpoch: bigint;
      readonly groupEpoch: bigint;
    };

/** XMTP takes none of these in a group (xmtp-client.md section 1.1; see the callback below). */
const REFUSED_PROPOSALS: ReadonlySet<number> = new Set([
  defaultProposalTypes.psk,
  defaultProposalTypes.reinit,
  defaultProposalTypes.external_init,
]);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function memberAt(engine: Pick<ClientState, "ratchetTree">, leafIndex: number | undefined): GroupMember | undefined {
  if (leafIndex === undefined) return undefined;
  const node = engine.ratchetTree[leafIndex * 2];
  if (node?.nodeType !== nodeTypes.leaf) return undefined;
  try {
    return {
      leafIndex,
      inboxId: inboxIdOfCredential(node.leaf.credential),
      installationKey: installationKeyOfLeaf(node.leaf.signaturePublicKey),
      encryptionKey: node.leaf.hpkePublicKey.slice(),
    };
  } catch {
    return undefined;
  }
}

/** When a received commit is judged (key-package lifetimes of its Adds, RFC 9420 7.3 / 10.1). */
export interface ProcessOptions {
  /**
   * The commit's time: the node's time of its envelope, the same for every
   * member whenever it syncs. Without it the engine judges lifetimes by
   * this machine's clock at processing.
   */
  readonly atSeconds?: bigint;
}

/**
 * Processes one MLSMessage from the group's topic.
 *
 * @throws MlsError `mls.malformed`, `mls.unexpected_wire_format`,
 *   `mls.public_message_refused`, `mls.wrong_group`, `mls.decrypt_failed`,
 *   `mls.bad_signature`, `mls.invalid`, `mls.unauthenticated_member`,
 *   `mls.expired_key_package`, `mls.ratchet_window`.
 */
export async function processMessage(
  state: GroupState,
  bytes: Uint8Array,
  authenticate: AuthenticateMember,
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const message = decodeFramedMessage(bytes);
  if (message.wireformat !== wireformats.mls_private_message) {
    throw new MlsError("mls.public_message_refused", "processMessage: PublicMessages are refused (pure-ciphertext policy)");
  }
  const pm = message.privateMessage;
  const engine = engineOf(state);
  if (!sameBytes(pm.groupId, engine.groupContext.groupId)) {
    throw new MlsError("mls.wrong_group", "processMessage: message is for another group");
  }
  const groupEpoch = engine.groupContext.epoch;
  const isApplication = pm.contentType === contentTypes.application;
  const oldest = groupEpoch - BigInt(MAX_PAST_EPOCHS);
  const readable = pm.epoch === groupEpoch || (isApplication && pm.epoch < groupEpoch && pm.epoch >= oldest && engine.historicalReceiverData.has(pm.epoch));
  if (!readable) return { kind: "wrong_epoch", messageEpoch: pm.epoch, groupEpoch };
  return processPrivate(state, engine, pm, authenticate, options.atSeconds);
}

async function processPrivate(
  state: GroupState,
  engine: ClientState,
  pm: PrivateMessage,
  authenticate: AuthenticateMember,
  atSeconds: bigint | undefined,
): Promise<ProcessResult> {
  // Given the commit's time, lifetimes are judged here (commit-checks.ts), not by the engine's clock.
  const { context, auth } = engineContext(authenticate, atSeconds === undefined ? {} : { checkReceivedLifetimes: false });
  let expiredAdd = false;
  const before = groupMembers(state);
  let standalone: { readonly proposalType: number; readonly senderLeafIndex: number | undefined } | undefined;
  let committerLeaf: number | undefined;
  let refusedProposal = false;
  let fromOwnLeaf = false;
  const proposedAdds: Uint8Array[] = [];
  const proposedRemoves: number[] = [];
  const ownLeaf = engine.privatePath.leafIndex;
  const result = await guard("processMessage", "mls.invalid", async () => {
    try {
      return await processPrivateMessage({
        context,
        // No proposal is ever kept for a later commit (see "proposal_refused"),
        // and one a state stored before that rule still holds is not honoured
        // either: a commit naming a proposal by reference fails here for every
        // member alike (RFC 9420 12.4: the reference must resolve).
        state: { ...engine, unappliedProposals: {} },
        privateMessage: pm,
        callback: (incoming) => {
          // Called once the content's signature is verified (RFC 9420 6.1):
          // only a holder of our signature key signs as our leaf.
          const sender = incoming.kind === "commit" ? incoming.senderLeafIndex : incoming.proposal.senderLeafIndex;
          if (sender === ownLeaf) {
            fromOwnLeaf = true;
            return "reject";
          }
          if (incoming.kind === "proposal") {
            standalone = { proposalType: incoming.proposal.proposal.proposalType, senderLeafIndex: incoming.proposal.senderLeafIndex };
            return "reject";
          }
          const proposals = incoming.proposals;
          if (incoming.kind === "commit") {
            committerLeaf = incoming.senderLeafIndex;
            for (const { proposal } of proposals) {
              if ("add" in proposal) proposedAdds.push(installationKeyOfLeaf(proposal.add.keyPackage.leafNode.signaturePublicKey));
              if ("remove" in proposal) proposedRemoves.push(proposal.remove.removed);
            }
          }
          // libxmtp refuses PSK proposals (validated_commit.rs NoPSKSupport),
          // and XMTP groups never re-initialise or take external commits.
          if (proposals.some((p) => REFUSED_PROPOSALS.has(p.proposal.proposalType))) {
            refusedProposal = true;
            return "reject";
          }
          if (atSeconds !== undefined && addsOutsideLifetime(proposals, atSeconds)) {
            expiredAdd = true;
            return "reject";
          }
          // A commit that removes us goes on through every public check
          // (the engine's mends removed-receiver-*): we mark ourselves
          // removed only once it passed all the rules the others apply.
          return "accept";
        },
      });
    } catch (error) {
      const refused = refusedMemberError(auth, "processMessage", error);
      if (refused !== undefined) throw refused;
      if (outsideRatchetWindow(engine, pm)) {
        throw new MlsError("mls.ratchet_window", "processMessage: generation outside the out-of-order window or forward distance", { cause: error });
      }
      throw error;
    }
  });
  if (fromOwnLeaf) return { kind: "from_own_leaf", epoch: pm.epoch };
  if (expiredAdd) throw new MlsError("mls.expired_key_package", "processMessage: an added key package's lifetime does not cover the commit's time");
  if (refusedProposal) {
    throw new MlsError("mls.invalid", "processMessage: PSK, ReInit and ExternalInit proposals are refused");
  }
  if (result.kind === "applicationMessage") {
    const epochData = pm.epoch === engine.groupContext.epoch ? undefined : engine.historicalReceiverData.get(pm.epoch);
    const secret = epochData?.senderDataSecret ?? engine.keySchedule.senderDataSecret;
    const tree = epochData ?? engine;
    return {
      kind: "application",
      state: wrapState(result.newState),
      plaintext: result.message,
      sender: memberAt(tree, senderLeafIndex(secret, pm)),
      epoch: pm.epoch,
      consumed: result.consumed,
    };
  }
  if (standalone !== undefined) {
    return {
      kind: "proposal_refused",
      state: wrapState(result.newState),
      proposer: memberAt(engine, standalone.senderLeafIndex),
      proposalType: standalone.proposalType,
      consumed: result.consumed,
    };
  }
  if (pm.contentType === contentTypes.proposal) throw new MlsError("mls.internal", "processMessage: a proposal passed the callback unseen");
  // ts-mls rc.10 decides "removed" by whether our leaf slot is empty after
  // the commit; a commit that removes us and adds someone else fills that
  // slot again. Our own signature key at our leaf is the reliable test.
  const ownKey = memberAt(engine, ownLeaf)?.installationKey;
  const stillThere = memberAt(result.newState, ownLeaf)?.installationKey;
  const removedSelf =
    result.newState.groupActiveState.kind === "removedFromGroup" ||
    ownKey === undefined ||
    stillThere === undefined ||
    !sameBytes(ownKey, stillThere);
  // RFC 9420 12.4.2, 7.3: the tree's keys, checked as every member checks them (commit-checks.ts).
  assertTreeKeys(result.newState);
  const pruned = dropBlankedKeys(result.newState);
  const next = wrapState(pruned.engine);
  // Removed: the new epoch is not ours (the engine derived no secret of it,
  // mends removed-receiver-*). We stay on the old epoch marked removed,
  // without the private keys of our path, which nothing will use again.
  const kept = removedSelf
    ? wrapState({ ...engine, privatePath: { ...engine.privatePath, privateKeys: {} }, groupActiveState: { kind: "removedFromGroup" } })
    : next;
  const after = groupMembers(next);
  const has = (list: readonly GroupMember[], m: GroupMember) => list.some((x) => sameBytes(x.installationKey, m.installationKey));
  return {
    kind: "commit",
    state: kept,
    after: next,
    committer: memberAt(engine, committerLeaf),
    added: after.filter((m) => !has(before, m)),
    removed: before.filter((m) => !has(after, m)),
    extensionsChanged: !extensionsEqual(engine, result.newState),
    removedSelf,
    readded: before.filter((m) => proposedRemoves.includes(m.leafIndex) && proposedAdds.some((k) => sameBytes(k, m.installationKey))),
    consumed: removedSelf ? Object.values(engine.privatePath.privateKeys) : [...result.consumed, ...pruned.dropped],
  };
}

/**
 * Whether the message's generation is one the sender's ratchet can no longer
 * or not yet reach (kept out-of-order keys: OUT_OF_ORDER_TOLERANCE; forward
 * steps: MAXIMUM_FORWARD_DISTANCE). Read from the state, so that the error
 * code does not depend on the engine's message text.
 */
function outsideRatchetWindow(engine: ClientState, pm: PrivateMessage): boolean {
  const epochData = pm.epoch === engine.groupContext.epoch ? engine : engine.historicalReceiverData.get(pm.epoch);
  if (epochData === undefined) return false;
  const secret = "keySchedule" in epochData ? epochData.keySchedule.senderDataSecret : epochData.senderDataSecret;
  const sender = openSenderData(secret, pm);
  if (sender === undefined) return false;
  const leaf = epochData.secretTree.leafNodes[sender.leafIndex * 2];
  if (leaf === undefined) return sender.generation > MAXIMUM_FORWARD_DISTANCE;
  const ratchet = pm.contentType === contentTypes.application ? leaf.application : leaf.handshake;
  if (sender.generation < ratchet.generation) return ratchet.unusedGenerations[sender.generation] === undefined;
  return sender.generation - ratchet.generation > MAXIMUM_FORWARD_DISTANCE;
}

function extensionsEqual(a: ClientState, b: ClientState): boolean {
  const x = a.groupContext.extensions;
  const y = b.groupContext.extensions;
  if (x.length !== y.length) return false;
  return x.every((e, i) => {
    const f = y[i]!;
    if (e.extensionType !== f.extensionType) return false;
    if (e.extensionData instanceof Uint8Array && f.extensionData instanceof Uint8Array) return sameBytes(e.extensionData, f.extensionData);
    return JSON.stringify(e.extensionData) === JSON.stringify(f.extensionData);
  });
}
