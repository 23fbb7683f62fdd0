// The caller's authentication check sees every leaf that enters or changes,
// and commits with proposals XMTP refuses are refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { engine } from "../engine/ts-mls.js";
const { bytesToBase64, createCommit, encode, mlsMessageEncoder } = engine;
import type { MemberIdentity } from "../authentication.js";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";
import { selfUpdate, updateMembership } from "./commit.js";
import { createGroup } from "./create-group.js";
import { engineContext, engineOf } from "./group-state.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";

async function pair() {
  const alice = await installation("a");
  const bob = await installation("b");
  let a = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
  const add = await updateMembership(a, { add: [bob.bundle.keyPackage], membership: membership({}), authenticate: allowAll });
  a = add.state;
  const seen: MemberIdentity[] = [];
  const { state: b } = await joinFromWelcome({
    welcome: add.welcome!,
    keyPackage: bob.bundle.keyPackage,
    privateKeyPackage: bob.bundle.privateKeyPackage,
    authenticate: (m) => {
      seen.push(m);
      return true;
    },
  });
  return { alice, bob, a, b, seenOnJoin: seen };
}

describe("authentication", () => {
  it("checks every leaf of the tree in a Welcome, and the added key package on commit", async () => {
    const { alice, bob, seenOnJoin } = await pair();
    const inboxes = new Set(seenOnJoin.map((m) => m.inboxId));
    assert.ok(inboxes.has(alice.inboxId) && inboxes.has(bob.inboxId));
    assert.ok(seenOnJoin.every((m) => m.installationKey.length === 32));
  });

  it("checks the committer's new leaf in a self-update", async () => {
    const { a, b, bob } = await pair();
    const update = await selfUpdate(b, allowAll);
    const seen: MemberIdentity[] = [];
    const r = await processMessage(a, update.commit, (m) => {
      seen.push(m);
      return true;
    });
    assert.equal(r.kind, "commit");
    assert.ok(seen.some((m) => m.inboxId === bob.inboxId));
    await assert.rejects(processMessage(a, update.commit, (m) => m.inboxId !== bob.inboxId), { code: "mls.unauthenticated_member" });
  });

  it("refuses to add a key package whose signature does not verify", async () => {
    const { a } = await pair();
    const carol = await installation("c");
    const bad = carol.bundle.keyPackage.slice();
    bad[bad.length - 1]! ^= 1;
    await assert.rejects(updateMembership(a, { add: [bad], membership: membership({}), authenticate: allowAll }), {
      code: "mls.bad_signature",
    });
  });

  it("will not remove our own installation or one not in the group", async () => {
    const { a, alice } = await pair();
    const stranger = await installation("s");
    await assert.rejects(
      updateMembership(a, { remove: [alice.bundle.installationKey], membership: membership({}), authenticate: allowAll }),
      { code: "mls.usage" },
    );
    await assert.rejects(
      updateMembership(a, { remove: [stranger.bundle.installationKey], membership: membership({}), authenticate: allowAll }),
      { code: "mls.usage" },
    );
  });

  it("refuses a commit carrying a PSK proposal", async () => {
    const { a, b } = await pair();
    const pskId = new Uint8Array([1, 2, 3]);
    const { context } = engineContext(allowAll);
    const psk = await createCommit({
      context: { ...context, externalPsks: { [bytesToBase64(pskId)]: new Uint8Array(32).fill(9) } },
      state: engineOf(b),
      extraProposals: [{ proposalType: 4, psk: { preSharedKeyId: { psktype: 1, pskId, pskNonce: new Uint8Array(32) } } }],
    });
    await assert.rejects(processMessage(a, encode(mlsMessageEncoder, psk.commit), allowAll), { code: "mls.invalid" });
  });
});
