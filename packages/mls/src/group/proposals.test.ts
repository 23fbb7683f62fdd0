// Standalone proposals (RFC 9420 12.1) under XMTP's rule that every change
// is a commit carrying its proposals by value (xmtp-client.md 3.3, 3.7):
// one arriving is refused and not stored; a state that does hold one (the
// proposer's own, or one stored by an earlier version) commits without it;
// a commit naming one by reference does not apply. The proposal is built
// with the engine itself, as a misbehaving member would.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultProposalTypes, engine } from "../engine/ts-mls.js";
import { createGroup, groupExtensions, isMlsError, joinFromWelcome, processMessage, selfUpdate, updateMembership, type GroupState } from "../index.js";
import { replaceExtensions } from "../xmtp/group-extensions.js";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";
import { engineContext, engineOf, wrapState } from "./group-state.js";

async function twoMembers(): Promise<{ a: GroupState; b: GroupState }> {
  const alice = await installation("proposals-a");
  const bob = await installation("proposals-b");
  const a0 = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
  const add = await updateMembership(a0, {
    add: [bob.bundle.keyPackage],
    membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }),
    authenticate: allowAll,
  });
  assert.ok(add.welcome);
  const joined = await joinFromWelcome({ welcome: add.welcome, keyPackage: bob.bundle.keyPackage, privateKeyPackage: bob.bundle.privateKeyPackage, authenticate: allowAll });
  return { a: add.state, b: joined.state };
}

/** Bob proposes new permissions (0xFF02) on his own; his state then holds the proposal, as ts-mls keeps a sender's own. */
async function bobProposes(b: GroupState) {
  const extensions = replaceExtensions(engineOf(b).groupContext.extensions, { permissions: Uint8Array.of(1, 2, 3) });
  const proposal = { proposalType: defaultProposalTypes.group_context_extensions, groupContextExtensions: { extensions } };
  const result = await engine.createProposal({ context: engineContext(allowAll).context, state: engineOf(b), proposal, wireAsPublicMessage: false });
  assert.equal(Object.keys(result.newState.unappliedProposals).length, 1);
  return { state: wrapState(result.newState), bytes: engine.encode(engine.mlsMessageEncoder, result.message) };
}

describe("standalone proposals", () => {
  it("one arriving is refused with its proposer and type, and nothing is stored", async () => {
    const { a, b } = await twoMembers();
    const proposed = await bobProposes(b);
    const r = await processMessage(a, proposed.bytes, allowAll);
    assert.equal(r.kind, "proposal_refused");
    if (r.kind !== "proposal_refused") return;
    assert.equal(r.proposer?.leafIndex, 1);
    assert.equal(r.proposalType, defaultProposalTypes.group_context_extensions);
    assert.deepEqual(engineOf(r.state).unappliedProposals, {});
    assert.equal(r.state.epoch, a.epoch);
  });

  it("a state holding a proposal commits without it: a key update carries nothing by reference", async () => {
    const { a, b } = await twoMembers();
    const proposed = await bobProposes(b);
    const update = await selfUpdate(proposed.state, allowAll);
    const r = await processMessage(a, update.commit, allowAll);
    assert.equal(r.kind, "commit");
    assert.deepEqual(groupExtensions(r.state).permissions, groupExtensions(a).permissions);
  });

  it("a commit naming a proposal by reference does not apply", async () => {
    const { a, b } = await twoMembers();
    const proposed = await bobProposes(b);
    // Also a receiver as a state stored before proposals were refused
    // would be: holding Bob's proposal.
    const stale = wrapState({ ...engineOf(a), unappliedProposals: engineOf(proposed.state).unappliedProposals });
    const commit = await engine.createCommit({ context: engineContext(allowAll).context, state: engineOf(proposed.state), ratchetTreeExtension: true, wireAsPublicMessage: false });
    const bytes = engine.encode(engine.mlsMessageEncoder, commit.commit);
    for (const receiver of [a, stale]) {
      await assert.rejects(processMessage(receiver, bytes, allowAll), (e) => isMlsError(e) && e.code === "mls.invalid");
    }
  });
});
