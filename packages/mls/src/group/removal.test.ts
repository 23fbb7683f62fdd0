// A member removed on its own can't read what follows: the commit that
// removes it carries an UpdatePath (RFC 9420 12.4; ts-mls rc.10 left it out,
// mended in src/engine/mends.ts), so the removed member can't derive the new
// epoch; and processMessage reports the removal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";
import { encryptMessage } from "./application.js";
import { updateGroupExtensions, updateMembership } from "./commit.js";
import { createGroup } from "./create-group.js";
import { engineOf, groupMembers, isRemoved, type GroupState } from "./group-state.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";

const text = (s: string) => new TextEncoder().encode(s);

/** The HPKE key of leaf 0 (the creator, who commits in these tests). */
function leafKey(state: GroupState): string {
  const node = engineOf(state).ratchetTree[0];
  return node?.nodeType === 1 ? Buffer.from(node.leaf.hpkePublicKey).toString("hex") : "";
}

async function threeMembers() {
  const [alice, bob, carol] = await Promise.all([installation("a"), installation("b"), installation("c")]);
  let a = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
  const add = await updateMembership(a, {
    add: [bob.bundle.keyPackage, carol.bundle.keyPackage],
    membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [carol.inboxId]: 1n }),
    authenticate: allowAll,
  });
  a = add.state;
  const join = async (who: typeof bob) =>
    (
      await joinFromWelcome({
        welcome: add.welcome!,
        keyPackage: who.bundle.keyPackage,
        privateKeyPackage: who.bundle.privateKeyPackage,
        authenticate: allowAll,
      })
    ).state;
  return { alice, bob, carol, a, b: await join(bob), c: await join(carol) };
}

describe("removing one member", () => {
  it("puts an UpdatePath in the commit, so the removed member can't derive the next epoch", async () => {
    const { alice, carol, a, b, c } = await threeMembers();
    const remove = await updateMembership(a, {
      remove: [carol.bundle.installationKey],
      membership: membership({ [alice.inboxId]: 0n, [(await installation("b")).inboxId]: 1n }),
      authenticate: allowAll,
    });
    // The committer's leaf key rotated: the commit carried a path, so the
    // new epoch's secrets come from keys carol doesn't hold.
    assert.notEqual(leafKey(remove.state), leafKey(a));

    // Through processMessage: carol learns she was removed and reads nothing new.
    const seen = await processMessage(c, remove.commit, allowAll);
    assert.equal(seen.kind, "commit");
    assert.ok(seen.kind === "commit" && seen.removedSelf);
    const carolAfter: GroupState = seen.state;
    assert.equal(isRemoved(carolAfter), true);
    const next = await encryptMessage(remove.state, text("after carol"));
    const attempt = await processMessage(carolAfter, next.message, allowAll);
    assert.equal(attempt.kind, "wrong_epoch");

    // Bob, still a member, follows and reads.
    const bobSeen = await processMessage(b, remove.commit, allowAll);
    assert.ok(bobSeen.kind === "commit" && !bobSeen.removedSelf);
    assert.equal(groupMembers(bobSeen.state).length, 2);
    const read = await processMessage(bobSeen.state, next.message, allowAll);
    assert.equal(read.kind, "application");
  });

  it("a metadata-only commit also carries a path, which the other members decrypt", async () => {
    const { a, b } = await threeMembers();
    const before = engineOf(a).ratchetTree.length;
    const meta = await updateGroupExtensions(a, { mutableMetadata: text("renamed") }, allowAll);
    const seen = await processMessage(b, meta.commit, allowAll);
    assert.equal(seen.kind, "commit");
    assert.equal(engineOf(meta.state).ratchetTree.length, before);
    // The committer's leaf key rotated: the path was there and applied.
    assert.notEqual(leafKey(meta.state), leafKey(a));
    assert.equal(seen.kind === "commit" && leafKey(seen.state), leafKey(meta.state));
  });
});
