// message-protection.json (RFC 9420 6): unprotect the vector's Public and
// Private messages, and protect-then-unprotect our own, for proposal,
// commit and application content.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RatchetTree } from "ts-mls";
import { engine } from "../../src/engine/ts-mls.js";
const { defaultCapabilities, defaultKeyRetentionConfig, encode, mlsMessageDecoder } = engine;
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import {
  commitDecoder,
  commitEncoder,
  createContentCommitSignature,
  createSecretTree,
  proposalDecoder,
  proposalEncoder,
  protect,
  protectApplicationData,
  protectProposal,
  protectProposalPublic,
  protectPublicMessage,
  unprotectPrivateMessage,
  unprotectPublicMessage,
  type GroupContext,
} from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Case {
  cipher_suite: number; group_id: string; epoch: number; tree_hash: string; confirmed_transcript_hash: string;
  signature_priv: string; signature_pub: string; encryption_secret: string; sender_data_secret: string; membership_key: string;
  proposal: string; proposal_priv: string; proposal_pub: string; commit: string; commit_priv: string; commit_pub: string;
  application: string; application_priv: string;
}

// The sender is leaf 1; the tree only needs a leaf there for the lookup.
const tree: RatchetTree = [
  undefined,
  undefined,
  {
    nodeType: 1,
    leaf: {
      leafNodeSource: 3,
      hpkePublicKey: new Uint8Array(),
      signaturePublicKey: new Uint8Array(),
      capabilities: defaultCapabilities(),
      parentHash: new Uint8Array(),
      extensions: [],
      signature: new Uint8Array(),
      credential: { credentialType: 1, identity: new Uint8Array() },
    },
  },
];
const padding = { kind: "padUntilLength", padUntilLength: 0 } as const;

function privateOf(bytes: string) {
  const m = mlsMessageDecoder(hex(bytes), 0)?.[0];
  assert.ok(m?.wireformat === 2);
  return m.privateMessage;
}
function publicOf(bytes: string) {
  const m = mlsMessageDecoder(hex(bytes), 0)?.[0];
  assert.ok(m?.wireformat === 1);
  return m.publicMessage;
}

const v = loadVectors<Case>("message-protection.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("message-protection.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i}`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const gc: GroupContext = {
          version: 1,
          cipherSuite: c.cipher_suite,
          groupId: hex(c.group_id),
          epoch: BigInt(c.epoch),
          treeHash: hex(c.tree_hash),
          confirmedTranscriptHash: hex(c.confirmed_transcript_hash),
          extensions: [],
        };
        const sigPriv = hex(c.signature_priv);
        const sigPub = hex(c.signature_pub);
        const membershipKey = hex(c.membership_key);
        const sds = hex(c.sender_data_secret);
        const secretTree = () => createSecretTree(2, hex(c.encryption_secret));
        const unprotect = (pm: ReturnType<typeof privateOf>) =>
          unprotectPrivateMessage(sds, pm, secretTree(), tree, gc, defaultKeyRetentionConfig, cs, sigPub);
        const proposal = proposalDecoder(hex(c.proposal), 0)![0];
        const commit = commitDecoder(hex(c.commit), 0)![0];

        // The vector's own messages.
        const pubP = await unprotectPublicMessage(membershipKey, gc, [], publicOf(c.proposal_pub), cs, sigPub);
        assert.ok(pubP.content.contentType === 2);
        assert.equal(toHex(encode(proposalEncoder, pubP.content.proposal)), c.proposal);
        const pubC = await unprotectPublicMessage(membershipKey, gc, [], publicOf(c.commit_pub), cs, sigPub);
        assert.ok(pubC.content.contentType === 3);
        assert.equal(toHex(encode(commitEncoder, pubC.content.commit)), c.commit);
        const privP = await unprotect(privateOf(c.proposal_priv));
        assert.ok(privP.content.content.contentType === 2);
        assert.equal(toHex(encode(proposalEncoder, privP.content.content.proposal)), c.proposal);
        const privC = await unprotect(privateOf(c.commit_priv));
        assert.ok(privC.content.content.contentType === 3);
        assert.equal(toHex(encode(commitEncoder, privC.content.content.commit)), c.commit);
        const privA = await unprotect(privateOf(c.application_priv));
        assert.ok(privA.content.content.contentType === 1);
        assert.equal(toHex(privA.content.content.applicationData), c.application);

        // Ours, protected with our provider and read back.
        const ownPubP = await protectProposalPublic(sigPriv, membershipKey, gc, new Uint8Array(), proposal, 1, cs);
        const backPubP = await unprotectPublicMessage(membershipKey, gc, [], ownPubP.publicMessage, cs, sigPub);
        assert.ok(backPubP.content.contentType === 2);
        assert.equal(toHex(encode(proposalEncoder, backPubP.content.proposal)), c.proposal);

        const tag = cs.rng.randomBytes(32);
        const signedPub = await createContentCommitSignature(gc, "mls_public_message", commit, { senderType: 1, leafIndex: 1 }, new Uint8Array(), sigPriv, cs.signature);
        const ownPubC = await protectPublicMessage(membershipKey, gc, {
          wireformat: 1,
          content: signedPub.framedContent,
          auth: { contentType: 3, signature: signedPub.signature, confirmationTag: tag },
        } as never, cs);
        const backPubC = await unprotectPublicMessage(membershipKey, gc, [], ownPubC, cs, sigPub);
        assert.ok(backPubC.content.contentType === 3);
        assert.equal(toHex(encode(commitEncoder, backPubC.content.commit)), c.commit);

        const st = secretTree();
        const ownP = await protectProposal(sigPriv, sds, proposal, new Uint8Array(), gc, st, 1, padding, cs);
        const backP = await unprotectPrivateMessage(sds, ownP.privateMessage, st, tree, gc, defaultKeyRetentionConfig, cs, sigPub);
        assert.ok(backP.content.content.contentType === 2);
        assert.equal(toHex(encode(proposalEncoder, backP.content.content.proposal)), c.proposal);

        const st2 = secretTree();
        const ownA = await protectApplicationData(sigPriv, sds, hex(c.application), new Uint8Array(), gc, st2, 1, padding, cs);
        const backA = await unprotectPrivateMessage(sds, ownA.privateMessage, st2, tree, gc, defaultKeyRetentionConfig, cs, sigPub);
        assert.ok(backA.content.content.contentType === 1);
        assert.equal(toHex(backA.content.content.applicationData), c.application);

        const st3 = secretTree();
        const signedPriv = await createContentCommitSignature(gc, "mls_private_message", commit, { senderType: 1, leafIndex: 1 }, new Uint8Array(), sigPriv, cs.signature);
        const ownC = await protect(sds, new Uint8Array(), gc, st3, {
          ...signedPriv.framedContent,
          auth: { contentType: 3, signature: signedPriv.signature, confirmationTag: tag },
        } as never, 1, padding, cs);
        const backC = await unprotectPrivateMessage(sds, ownC.privateMessage, st3, tree, gc, defaultKeyRetentionConfig, cs, sigPub);
        assert.ok(backC.content.content.contentType === 3);
        assert.equal(toHex(encode(commitEncoder, backC.content.content.commit)), c.commit);
      });
    });
  });
}
