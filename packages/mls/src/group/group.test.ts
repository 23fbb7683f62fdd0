// A whole XMTP-shaped conversation between installations, through the
// public operations only: create, add with a GCE proposal, wrap and unwrap
// the Welcome, join, messages both ways, self-update, metadata, remove.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createGroup,
  decodeGroupState,
  encodeGroupState,
  encryptMessage,
  epochAuthenticator,
  groupExtensions,
  groupMembers,
  joinFromWelcome,
  parseFraming,
  privateInitKey,
  processMessage,
  selfUpdate,
  unwrapWelcome,
  updateGroupExtensions,
  updateMembership,
  wrapWelcome,
  type AuthenticateMember,
  type GroupState,
} from "../index.js";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";

const text = (s: string) => new TextEncoder().encode(s);

async function expectCommit(state: GroupState, bytes: Uint8Array, auth: AuthenticateMember = allowAll) {
  const r = await processMessage(state, bytes, auth);
  assert.equal(r.kind, "commit");
  return r;
}

describe("a group as XMTP runs one", () => {
  it("adds, joins by wrapped Welcome, talks, updates, removes", async () => {
    const alice = await installation("a");
    const bob = await installation("b");
    const carol = await installation("c");
    let a = await createGroup({
      signer: alice,
      extensions: groupExtensionsFor(alice.inboxId),
      authenticate: allowAll,
    });
    assert.equal(a.epoch, 0n);
    assert.equal(a.groupId.length, 16);

    const add = await updateMembership(a, {
      add: [bob.bundle.keyPackage],
      membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }),
      authenticate: allowAll,
    });
    a = add.state;
    assert.equal(a.epoch, 1n);
    const framing = parseFraming(add.commit);
    assert.equal(framing.wireFormat, "private");
    assert.equal(framing.isCommit, true);
    assert.equal(framing.epoch, 0n);
    assert.ok(add.welcome);

    const wrapped = wrapWelcome(add.welcome, bob.bundle.initKey, 42n);
    const opened = unwrapWelcome(wrapped, privateInitKey(bob.bundle.privateKeyPackage));
    assert.equal(opened.messageCursor, 42n);
    const joined = await joinFromWelcome({
      welcome: opened.welcome,
      keyPackage: bob.bundle.keyPackage,
      privateKeyPackage: bob.bundle.privateKeyPackage,
      authenticate: allowAll,
    });
    let b = joined.state;
    assert.equal(joined.addedBy?.inboxId, alice.inboxId);
    assert.equal(b.epoch, 1n);
    assert.deepEqual(groupExtensions(b).membership, membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }));

    const m1 = await encryptMessage(a, text("hi bob"));
    a = m1.state;
    assert.equal(parseFraming(m1.message).contentType, "application");
    const r1 = await processMessage(b, m1.message, allowAll);
    assert.equal(r1.kind, "application");
    if (r1.kind !== "application") return;
    b = r1.state;
    assert.deepEqual(r1.plaintext, text("hi bob"));
    assert.equal(r1.sender?.inboxId, alice.inboxId);

    const up = await selfUpdate(b, allowAll);
    const epoch1 = epochAuthenticator(b);
    assert.deepEqual(epochAuthenticator(a), epoch1, "one epoch, one authenticator on every member");
    b = up.state;
    a = (await expectCommit(a, up.commit)).state;
    assert.equal(a.epoch, 2n);
    assert.deepEqual(epochAuthenticator(a), epochAuthenticator(b));
    assert.equal(epochAuthenticator(a).length, 32);
    assert.notDeepEqual(epochAuthenticator(a), epoch1, "each epoch its own");

    const meta = await updateGroupExtensions(a, { mutableMetadata: text("x") }, allowAll);
    a = meta.state;
    const rm = await expectCommit(b, meta.commit);
    assert.equal(rm.extensionsChanged, true);
    b = rm.state;
    assert.deepEqual(groupExtensions(b).mutableMetadata, text("x"));

    // State survives a store round trip, and the old state stays usable.
    b = decodeGroupState(encodeGroupState(b));
    const m2 = await encryptMessage(b, text("hi alice"));
    const r2 = await processMessage(a, m2.message, allowAll);
    assert.equal(r2.kind, "application");

    // Add carol and remove bob in one commit.
    const change = await updateMembership(a, {
      add: [carol.bundle.keyPackage],
      remove: [bob.bundle.installationKey],
      membership: membership({ [alice.inboxId]: 0n, [carol.inboxId]: 1n }),
      authenticate: allowAll,
    });
    a = change.state;
    const rb = await expectCommit(b, change.commit);
    assert.equal(rb.removed.length, 1, "bob removed");
    assert.equal(rb.removedSelf, true);
    assert.deepEqual(groupMembers(a).map((m) => m.inboxId).sort(), [alice.inboxId, carol.inboxId].sort());

    // A commit from the epoch before is a tagged outcome, not an error.
    const stale = await processMessage(a, meta.commit, allowAll);
    assert.equal(stale.kind, "wrong_epoch");
  });

  it("reports who added us: the Welcome's signer", async () => {
    const alice = await installation("a");
    const bob = await installation("b");
    const carol = await installation("c");
    const a = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
    const addBob = await updateMembership(a, { add: [bob.bundle.keyPackage], membership: membership({}), authenticate: allowAll });
    const { state: b } = await joinFromWelcome({
      welcome: addBob.welcome!,
      keyPackage: bob.bundle.keyPackage,
      privateKeyPackage: bob.bundle.privateKeyPackage,
      authenticate: allowAll,
    });
    const addCarol = await updateMembership(b, { add: [carol.bundle.keyPackage], membership: membership({}), authenticate: allowAll });
    const joined = await joinFromWelcome({
      welcome: addCarol.welcome!,
      keyPackage: carol.bundle.keyPackage,
      privateKeyPackage: carol.bundle.privateKeyPackage,
      authenticate: allowAll,
    });
    assert.equal(joined.addedBy?.inboxId, bob.inboxId);
    assert.equal(joined.addedBy?.leafIndex, 1);
  });

  it("refuses a member the authentication check refuses", async () => {
    const alice = await installation("a");
    const mallory = await installation("m");
    const a = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
    const deny: AuthenticateMember = (m) => m.inboxId !== mallory.inboxId;
    await assert.rejects(
      updateMembership(a, { add: [mallory.bundle.keyPackage], membership: membership({}), authenticate: deny }),
      { code: "mls.unauthenticated_member" },
    );
    // and a joiner refuses a tree that holds someone it does not accept
    const bob = await installation("b");
    const add = await updateMembership(a, { add: [bob.bundle.keyPackage], membership: membership({}), authenticate: allowAll });
    await assert.rejects(
      joinFromWelcome({
        welcome: add.welcome!,
        keyPackage: bob.bundle.keyPackage,
        privateKeyPackage: bob.bundle.privateKeyPackage,
        authenticate: (m) => m.inboxId !== alice.inboxId,
      }),
      { code: "mls.unauthenticated_member" },
    );
  });
});
