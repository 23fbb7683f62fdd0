// The ts-mls functions the official vectors exercise that its package
// `exports` does not publish (key schedule, secret tree, TreeKEM, ...).
// Tests only: they are reached by file path into the pinned, exact version,
// which is the same module instance the engine itself uses. If ts-mls moves
// a file, this is the one place to follow it.
export { expandSenderDataKey, expandSenderDataNonce } from "../../../../node_modules/ts-mls/dist/src/sender.js";
export { createSecretTree, ratchetToGeneration } from "../../../../node_modules/ts-mls/dist/src/secretTree.js";
export { initializeEpoch, mlsExporter } from "../../../../node_modules/ts-mls/dist/src/keySchedule.js";
export { groupContextEncoder, type GroupContext } from "../../../../node_modules/ts-mls/dist/src/groupContext.js";
export {
  protect,
  unprotectPrivateMessage,
  protectApplicationData,
  protectProposal,
} from "../../../../node_modules/ts-mls/dist/src/messageProtection.js";
export {
  protectProposalPublic,
  protectPublicMessage,
  unprotectPublicMessage,
} from "../../../../node_modules/ts-mls/dist/src/messageProtectionPublic.js";
export { createContentCommitSignature } from "../../../../node_modules/ts-mls/dist/src/framedContent.js";
export { proposalDecoder, proposalEncoder } from "../../../../node_modules/ts-mls/dist/src/proposal.js";
export { commitDecoder, commitEncoder } from "../../../../node_modules/ts-mls/dist/src/commit.js";
export { createConfirmedHash, createInterimHash } from "../../../../node_modules/ts-mls/dist/src/transcriptHash.js";
export { authenticatedContentDecoder } from "../../../../node_modules/ts-mls/dist/src/authenticatedContent.js";
export {
  verifyGroupInfoConfirmationTag,
  verifyGroupInfoSignature,
} from "../../../../node_modules/ts-mls/dist/src/groupInfo.js";
export { decryptGroupInfo, decryptGroupSecrets } from "../../../../node_modules/ts-mls/dist/src/welcome.js";
export {
  ratchetTreeDecoder,
  ratchetTreeEncoder,
  resolution,
  filteredDirectPathAndCopathResolution,
  getHpkePublicKey,
  addLeafNodeMutable,
  updateLeafNodeMutable,
  removeLeafNodeMutable,
} from "../../../../node_modules/ts-mls/dist/src/ratchetTree.js";
export { treeHash, treeHashRoot } from "../../../../node_modules/ts-mls/dist/src/treeHash.js";
export { verifyLeafNodeSignature } from "../../../../node_modules/ts-mls/dist/src/leafNode.js";
export { verifyParentHashes } from "../../../../node_modules/ts-mls/dist/src/parentHash.js";
export { applyUpdatePath, firstCommonAncestor, updatePathDecoder } from "../../../../node_modules/ts-mls/dist/src/updatePath.js";
import { createUpdatePath as engineCreateUpdatePath } from "../../../../node_modules/ts-mls/dist/src/updatePath.js";
import type { LeafIndex } from "../../../../node_modules/ts-mls/dist/src/treemath.js";
/** As scripts/patch-ts-mls.mjs leaves it: a last argument, the leaves the commit adds (its .d.ts is not mended). */
export function createUpdatePath(
  ...args: [...Parameters<typeof engineCreateUpdatePath>, newLeaves?: LeafIndex[]]
): ReturnType<typeof engineCreateUpdatePath> {
  return (engineCreateUpdatePath as (...all: unknown[]) => ReturnType<typeof engineCreateUpdatePath>)(...args);
}
export { deriveSecret, deriveTreeSecret, expandWithLabel } from "../../../../node_modules/ts-mls/dist/src/crypto/kdf.js";
export { refhash } from "../../../../node_modules/ts-mls/dist/src/crypto/hash.js";
export { encryptWithLabel, decryptWithLabel } from "../../../../node_modules/ts-mls/dist/src/crypto/hpke.js";
export { signWithLabel, verifyWithLabel } from "../../../../node_modules/ts-mls/dist/src/crypto/signature.js";
export { applyUpdatePathSecret } from "../../../../node_modules/ts-mls/dist/src/createCommit.js";
export { getCommitSecret } from "../../../../node_modules/ts-mls/dist/src/pathSecrets.js";
export { toPrivateKeyPath, type PrivateKeyPath } from "../../../../node_modules/ts-mls/dist/src/privateKeyPath.js";
export {
  left,
  right,
  parent,
  sibling,
  root,
  nodeWidth,
  toNodeIndex,
  toLeafIndex,
  leafToNodeIndex,
  nodeToLeafIndex,
} from "../../../../node_modules/ts-mls/dist/src/treemath.js";
export { computePskSecret } from "../../../../node_modules/ts-mls/dist/src/presharedkey.js";
export { determineLength } from "../../../../node_modules/ts-mls/dist/src/codec/variableLength.js";
export { groupSecretsDecoder, groupSecretsEncoder } from "../../../../node_modules/ts-mls/dist/src/groupSecrets.js";
export {
  addDecoder,
  addEncoder,
  updateDecoder,
  updateEncoder,
  removeDecoder,
  removeEncoder,
  pskDecoder,
  pskEncoder,
  reinitDecoder,
  reinitEncoder,
  externalInitDecoder,
  externalInitEncoder,
  groupContextExtensionsDecoder,
  groupContextExtensionsEncoder,
} from "../../../../node_modules/ts-mls/dist/src/proposal.js";
