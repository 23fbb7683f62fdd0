// The ts-mls functions the official vectors exercise that its package
// `exports` does not publish (key schedule, secret tree, TreeKEM, ...).
// Tests only: they are reached by file path into the pinned, exact version,
// which is the same module instance the engine itself uses. If ts-mls moves
// a file, this is the one place to follow it. They are imported only after
// src/engine/ts-mls.ts has loaded the engine with its mends: a static import
// here would load these files first, unmended, and the engine would refuse
// to start.
import type { LeafIndex } from "../../../../node_modules/ts-mls/dist/src/treemath.js";
import type * as Sender from "../../../../node_modules/ts-mls/dist/src/sender.js";
import type * as SecretTree from "../../../../node_modules/ts-mls/dist/src/secretTree.js";
import type * as KeySchedule from "../../../../node_modules/ts-mls/dist/src/keySchedule.js";
import type * as GroupContext from "../../../../node_modules/ts-mls/dist/src/groupContext.js";
import type * as MessageProtection from "../../../../node_modules/ts-mls/dist/src/messageProtection.js";
import type * as MessageProtectionPublic from "../../../../node_modules/ts-mls/dist/src/messageProtectionPublic.js";
import type * as FramedContent from "../../../../node_modules/ts-mls/dist/src/framedContent.js";
import type * as Proposal from "../../../../node_modules/ts-mls/dist/src/proposal.js";
import type * as Commit from "../../../../node_modules/ts-mls/dist/src/commit.js";
import type * as TranscriptHash from "../../../../node_modules/ts-mls/dist/src/transcriptHash.js";
import type * as AuthenticatedContent from "../../../../node_modules/ts-mls/dist/src/authenticatedContent.js";
import type * as GroupInfo from "../../../../node_modules/ts-mls/dist/src/groupInfo.js";
import type * as Welcome from "../../../../node_modules/ts-mls/dist/src/welcome.js";
import type * as RatchetTree from "../../../../node_modules/ts-mls/dist/src/ratchetTree.js";
import type * as TreeHash from "../../../../node_modules/ts-mls/dist/src/treeHash.js";
import type * as LeafNode from "../../../../node_modules/ts-mls/dist/src/leafNode.js";
import type * as ParentHash from "../../../../node_modules/ts-mls/dist/src/parentHash.js";
import type * as UpdatePath from "../../../../node_modules/ts-mls/dist/src/updatePath.js";
import type * as Kdf from "../../../../node_modules/ts-mls/dist/src/crypto/kdf.js";
import type * as Hash from "../../../../node_modules/ts-mls/dist/src/crypto/hash.js";
import type * as Hpke from "../../../../node_modules/ts-mls/dist/src/crypto/hpke.js";
import type * as Signature from "../../../../node_modules/ts-mls/dist/src/crypto/signature.js";
import type * as CreateCommit from "../../../../node_modules/ts-mls/dist/src/createCommit.js";
import type * as PathSecrets from "../../../../node_modules/ts-mls/dist/src/pathSecrets.js";
import type * as PrivateKeyPath from "../../../../node_modules/ts-mls/dist/src/privateKeyPath.js";
import type * as Treemath from "../../../../node_modules/ts-mls/dist/src/treemath.js";
import type * as Presharedkey from "../../../../node_modules/ts-mls/dist/src/presharedkey.js";
import type * as VariableLength from "../../../../node_modules/ts-mls/dist/src/codec/variableLength.js";
import type * as GroupSecrets from "../../../../node_modules/ts-mls/dist/src/groupSecrets.js";
import { engineFileUrl } from "../../src/engine/ts-mls.js";

async function internal<M>(file: string): Promise<M> {
  return (await import(engineFileUrl(file))) as M;
}

export const { expandSenderDataKey, expandSenderDataNonce } = await internal<typeof Sender>("dist/src/sender.js");
export const { createSecretTree, ratchetToGeneration } = await internal<typeof SecretTree>("dist/src/secretTree.js");
export const { initializeEpoch, mlsExporter } = await internal<typeof KeySchedule>("dist/src/keySchedule.js");
export type { GroupContext } from "../../../../node_modules/ts-mls/dist/src/groupContext.js";
export const { groupContextEncoder } = await internal<typeof GroupContext>("dist/src/groupContext.js");
export const { protect, unprotectPrivateMessage, protectApplicationData, protectProposal } = await internal<typeof MessageProtection>("dist/src/messageProtection.js");
export const { protectProposalPublic, protectPublicMessage, unprotectPublicMessage } = await internal<typeof MessageProtectionPublic>("dist/src/messageProtectionPublic.js");
export const { createContentCommitSignature } = await internal<typeof FramedContent>("dist/src/framedContent.js");
export const { proposalDecoder, proposalEncoder } = await internal<typeof Proposal>("dist/src/proposal.js");
export const { commitDecoder, commitEncoder } = await internal<typeof Commit>("dist/src/commit.js");
export const { createConfirmedHash, createInterimHash } = await internal<typeof TranscriptHash>("dist/src/transcriptHash.js");
export const { authenticatedContentDecoder } = await internal<typeof AuthenticatedContent>("dist/src/authenticatedContent.js");
export const { verifyGroupInfoConfirmationTag, verifyGroupInfoSignature } = await internal<typeof GroupInfo>("dist/src/groupInfo.js");
export const { decryptGroupInfo, decryptGroupSecrets } = await internal<typeof Welcome>("dist/src/welcome.js");
export const { ratchetTreeDecoder, ratchetTreeEncoder, resolution, filteredDirectPathAndCopathResolution, getHpkePublicKey, addLeafNodeMutable, updateLeafNodeMutable, removeLeafNodeMutable } = await internal<typeof RatchetTree>("dist/src/ratchetTree.js");
export const { treeHash, treeHashRoot } = await internal<typeof TreeHash>("dist/src/treeHash.js");
export const { verifyLeafNodeSignature } = await internal<typeof LeafNode>("dist/src/leafNode.js");
export const { verifyParentHashes } = await internal<typeof ParentHash>("dist/src/parentHash.js");
export const { applyUpdatePath, firstCommonAncestor, updatePathDecoder } = await internal<typeof UpdatePath>("dist/src/updatePath.js");
const { createUpdatePath: engineCreateUpdatePath } = await internal<typeof UpdatePath>(
  "dist/src/updatePath.js",
);
/** As src/engine/mends.ts leaves it: a last argument, the leaves the commit adds (its .d.ts is not mended). */
export function createUpdatePath(
  ...args: [...Parameters<typeof engineCreateUpdatePath>, newLeaves?: LeafIndex[]]
): ReturnType<typeof engineCreateUpdatePath> {
  return (engineCreateUpdatePath as (...all: unknown[]) => ReturnType<typeof engineCreateUpdatePath>)(...args);
}
export const { deriveSecret, deriveTreeSecret, expandWithLabel } = await internal<typeof Kdf>("dist/src/crypto/kdf.js");
export const { refhash } = await internal<typeof Hash>("dist/src/crypto/hash.js");
export const { encryptWithLabel, decryptWithLabel } = await internal<typeof Hpke>("dist/src/crypto/hpke.js");
export const { signWithLabel, verifyWithLabel } = await internal<typeof Signature>("dist/src/crypto/signature.js");
export const { applyUpdatePathSecret } = await internal<typeof CreateCommit>("dist/src/createCommit.js");
export const { getCommitSecret } = await internal<typeof PathSecrets>("dist/src/pathSecrets.js");
export type { PrivateKeyPath } from "../../../../node_modules/ts-mls/dist/src/privateKeyPath.js";
export const { toPrivateKeyPath } = await internal<typeof PrivateKeyPath>("dist/src/privateKeyPath.js");
export const { left, right, parent, sibling, root, nodeWidth, toNodeIndex, toLeafIndex, leafToNodeIndex, nodeToLeafIndex } = await internal<typeof Treemath>("dist/src/treemath.js");
export const { computePskSecret } = await internal<typeof Presharedkey>("dist/src/presharedkey.js");
export const { determineLength } = await internal<typeof VariableLength>("dist/src/codec/variableLength.js");
export const { groupSecretsDecoder, groupSecretsEncoder } = await internal<typeof GroupSecrets>("dist/src/groupSecrets.js");
export const { addDecoder, addEncoder, updateDecoder, updateEncoder, removeDecoder, removeEncoder, pskDecoder, pskEncoder, reinitDecoder, reinitEncoder, externalInitDecoder, externalInitEncoder, groupContextExtensionsDecoder, groupContextExtensionsEncoder } = await internal<typeof Proposal>("dist/src/proposal.js");
