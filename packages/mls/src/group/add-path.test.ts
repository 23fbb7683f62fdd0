// A commit that adds members to a group with members carries an UpdatePath
// (RFC 9420 12.4: XMTP's add holds a GroupContextExtensions proposal, which
// needs one; OpenMLS refuses the commit without). The path is computed on the
// tree after the Adds, its secrets are encrypted to everyone but the new
// members, and the new members take the secret of their lowest common
// ancestor with the committer from the Welcome (12.4.1, 12.4.3.1). ts-mls
// rc.10 could not build such a path (mended in src/engine/mends.ts). The same
// construction runs on the official vector trees in test/vectors/treekem.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowAll, groupExtensionsFor, installation, membership, type TestInstallation } from "../scenario.test-util.js";
import { encryptMessage } from "./application.js";
import { selfUpdate, updateMembership } from "./commit.js";
import { createGroup } from "./create-group.js";
import { engineOf, groupMembers, isRemoved, ownLeafIndex, type GroupState } from "./group-state.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";

const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
/** RFC 9420 7.2: a leaf that came from a Commit's UpdatePath (a key package's leaf is 1). */
const LEAF_SOURCE_COMMIT = 3;

function leaf(state: GroupState, leafIndex: number) {
  const node = engineOf(state).ratchetTree[leafIndex * 2];
  assert.ok(node?.nodeType === 1, `leaf ${leafIndex} is a member`);
  return node.leaf;
}

/** What every member of one epoch must agree on. */
function epochView(state: GroupState) {
  const s = engineOf(state);
  return {
    epoch: s.groupContext.epoch,
    treeHash: hex(s.groupContext.treeHash),
    epochAuthenticator: hex(s.keySchedule.epochAuthenticator),
    exporterSecret: hex(s.keySchedule.exporterSecret),
  };
}

async function commitSeen(state: GroupState, commit: Uint8Array): Promise<GroupState> {
  const r = await processMessage(state, commit, allowAll);
  assert.equal(r.kind, "commit");
  return r.state;
}

async function joined(welcome: Uint8Array | undefined, who: TestInstallation): Promise<GroupState> {
  assert.ok(welcome, "the commit has a Welcome");
  const r = await joinFromWelcome({
    welcome,
    keyPackage: who.bundle.keyPackage,
    privateKeyPackage: who.bundle.privateKeyPackage,
    authenticate: allowAll,
  });
  return r.state;
}

async function reads(reader: GroupState, writer: GroupState, what: string): Promise<void> {
  const sent = await encryptMessage(writer, text(what));
  const r = await processMessage(reader, sent.message, allowAll);
  assert.equal(r.kind, "application");
  assert.equal(r.kind === "application" && new TextDecoder().decode(r.plaintext), what);
}

async function threeMembers() {
  const [alice, bob, carol] = await Promise.all([installation("a"), installation("b"), installation("c")]);
  const a0 = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
  const add = await updateMembership(a0, {
    add: [bob.bundle.keyPackage, carol.bundle.keyPackage],
    membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [carol.inboxId]: 1n }),
    authenticate: allowAll,
  });
  const [b, c] = await Promise.all([joined(add.welcome, bob), joined(add.welcome, carol)]);
  return { alice, bob, carol, a: add.state, b, c };
}

describe("a commit adding members to a group with members", () => {
  it("carries a path; old and new members reach the same epoch and the joiners' path keys work", async () => {
    const { alice, bob, carol, a, b, c } = await threeMembers();
    const [dave, erin] = await Promise.all([installation("d"), installation("e")]);
    assert.equal(ownLeafIndex(b), 1);

    // Bob (not the creator) adds two: the tree grows from 4 leaves to 8.
    const add = await updateMembership(b, {
      add: [dave.bundle.keyPackage, erin.bundle.keyPackage],
      membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [carol.inboxId]: 1n, [dave.inboxId]: 1n, [erin.inboxId]: 1n }),
      authenticate: allowAll,
    });
    // The path replaced Bob's leaf: a new HPKE key, signed as a commit leaf.
    assert.notEqual(hex(leaf(add.state, 1).hpkePublicKey), hex(leaf(b, 1).hpkePublicKey));
    assert.equal(leaf(add.state, 1).leafNodeSource, LEAF_SOURCE_COMMIT);

    const a1 = await commitSeen(a, add.commit);
    const c1 = await commitSeen(c, add.commit);
    const [d1, e1] = await Promise.all([joined(add.welcome, dave), joined(add.welcome, erin)]);
    const expected = epochView(add.state);
    assert.equal(expected.epoch, 2n);
    for (const [who, state] of [["alice", a1], ["carol", c1], ["dave", d1], ["erin", e1]] as const) {
      assert.deepEqual(epochView(state), expected, `${who} is at the committer's epoch`);
      assert.equal(leaf(state, 1).leafNodeSource, LEAF_SOURCE_COMMIT, `${who} applied the path`);
      assert.equal(groupMembers(state).length, 5);
    }
    assert.deepEqual([ownLeafIndex(d1), ownLeafIndex(e1)], [3, 4]);
    await reads(e1, a1, "alice to erin");
    await reads(a1, d1, "dave to alice");

    // Erin's path secret is encrypted only to the node above leaves 0-3,
    // whose key Dave holds only through the Welcome's path_secret.
    const update = await selfUpdate(e1, allowAll);
    const d2 = await commitSeen(d1, update.commit);
    const a2 = await commitSeen(a1, update.commit);
    assert.deepEqual(epochView(d2), epochView(update.state));
    assert.deepEqual(epochView(a2), epochView(update.state));
    await reads(d2, update.state, "erin to dave");
  });

  it("removing one member and adding another into its leaf: the path leaves out both", async () => {
    const { alice, bob, carol, a, b, c } = await threeMembers();
    const [frank, dave] = await Promise.all([installation("f"), installation("d")]);
    const withFrank = await updateMembership(a, {
      add: [frank.bundle.keyPackage],
      membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [carol.inboxId]: 1n, [frank.inboxId]: 1n }),
      authenticate: allowAll,
    });
    const [b1, c1, f1] = await Promise.all([
      commitSeen(b, withFrank.commit),
      commitSeen(c, withFrank.commit),
      joined(withFrank.welcome, frank),
    ]);
    assert.equal(ownLeafIndex(f1), 3);

    // Carol (leaf 2) out, Dave in: he takes leaf 2, and the node above
    // leaves 2-3 is blank, so Alice's path encrypts to its resolution
    // [Dave, Frank] minus Dave. Encrypting to Dave too would hand Frank
    // Dave's ciphertext; reading keys from the old tree would use Carol's.
    const swap = await updateMembership(withFrank.state, {
      remove: [carol.bundle.installationKey],
      add: [dave.bundle.keyPackage],
      membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [frank.inboxId]: 1n, [dave.inboxId]: 1n }),
      authenticate: allowAll,
    });
    assert.equal(leaf(swap.state, 0).leafNodeSource, LEAF_SOURCE_COMMIT);
    const d2 = await joined(swap.welcome, dave);
    assert.equal(ownLeafIndex(d2), 2, "dave took carol's leaf");
    const b2 = await commitSeen(b1, swap.commit);
    const f2 = await commitSeen(f1, swap.commit);
    for (const state of [b2, f2, d2]) assert.deepEqual(epochView(state), epochView(swap.state));

    const carolSees = await processMessage(c1, swap.commit, allowAll);
    assert.ok(carolSees.kind === "commit" && carolSees.removedSelf);
    assert.equal(isRemoved(carolSees.state), true);
    const next = await encryptMessage(d2, text("without carol"));
    assert.equal((await processMessage(carolSees.state, next.message, allowAll)).kind, "wrong_epoch");
    await reads(f2, d2, "dave to frank");
    await reads(b2, d2, "dave to bob");
  });
});
