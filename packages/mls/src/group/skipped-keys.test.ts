// A state stored before the engine mend skipped-keys-* kept a skipped
// generation's ratchet secret; loaded now, the entry is that generation's
// key and nonce only (RFC 9420 9.2), and the skipped message still reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";
import { decodeGroupState, encodeGroupState } from "../state-codec.js";
import { encryptMessage } from "./application.js";
import { updateMembership } from "./commit.js";
import { createGroup } from "./create-group.js";
import { engineOf, wrapState, type GroupState } from "./group-state.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";
import { storedRatchetsOf } from "./ratchet-secrets.js";

const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function applied(state: GroupState, message: Uint8Array): Promise<GroupState> {
  const result = await processMessage(state, message, allowAll);
  assert.equal(result.kind, "application");
  return (result as { state: GroupState }).state;
}

const aliceRatchet = (state: GroupState) => {
  const ratchet = storedRatchetsOf(state).find((r) => r.leafIndex === 0 && r.content === "application");
  assert.ok(ratchet);
  return ratchet;
};

describe("skipped generations in stored states (RFC 9420 9.2)", () => {
  it("an entry stored as a ratchet secret loads as that generation's key and nonce", async () => {
    const [alice, bob] = await Promise.all([installation("a"), installation("b")]);
    const a0 = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
    const add = await updateMembership(a0, { add: [bob.bundle.keyPackage], membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }), authenticate: allowAll });
    const b0 = (
      await joinFromWelcome({ welcome: add.welcome!, keyPackage: bob.bundle.keyPackage, privateKeyPackage: bob.bundle.privateKeyPackage, authenticate: allowAll })
    ).state;
    const m1 = await encryptMessage(add.state, text("m1"));
    const m2 = await encryptMessage(m1.state, text("m2"));
    const m3 = await encryptMessage(m2.state, text("m3"));

    const b1 = await applied(b0, m1.message);
    const secretOf2 = aliceRatchet(b1).secret.slice(); // generation 1: m2's
    const b3 = await applied(b1, m3.message);
    const kept = aliceRatchet(b3).skipped.get(1);
    assert.ok(kept, "m2's generation is kept");
    assert.notEqual(kept.length, secretOf2.length, "kept as key and nonce, not as the secret");

    // The same state as an older version stored it: the secret in the entry.
    const engine = engineOf(b3);
    const leaf = engine.secretTree.leafNodes[0]!;
    const legacy = wrapState({
      ...engine,
      secretTree: {
        ...engine.secretTree,
        leafNodes: { ...engine.secretTree.leafNodes, 0: { ...leaf, application: { ...leaf.application, unusedGenerations: { 1: secretOf2 } } } },
      },
    });
    const loaded = decodeGroupState(encodeGroupState(legacy));
    assert.equal(hex(aliceRatchet(loaded).skipped.get(1)!), hex(kept), "loaded, the entry is the key and nonce the engine now keeps");
    assert.ok(!Buffer.from(encodeGroupState(loaded)).includes(Buffer.from(secretOf2)), "the secret is gone from what is stored next");
    const late = await processMessage(loaded, m2.message, allowAll);
    assert.equal(late.kind, "application");
    assert.equal(new TextDecoder().decode((late as { plaintext: Uint8Array }).plaintext), "m2");
  });
});
