// XMTP's receive policy on our API (xmtp-client.md 1.1, 1.4): the group
// context carries XMTP's extensions; PublicMessages are refused; the past-
// epoch, out-of-order and forward-distance limits; state versioning.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { engine } from "../engine/ts-mls.js";
const { createCommit, createGroup: createEngineGroup, encode, mlsMessageEncoder } = engine;
import { decodeKeyPackage, decodePrivateKeyPackage } from "../key-package.js";
import { encodeGroupState, decodeGroupState } from "../state-codec.js";
import { allowAll, groupExtensionsFor, installation, membership, type TestInstallation } from "../scenario.test-util.js";
import { ExtensionId, MAX_PAST_EPOCHS, MAXIMUM_FORWARD_DISTANCE } from "../xmtp/profile.js";
import { encryptMessage } from "./application.js";
import { selfUpdate, updateMembership } from "./commit.js";
import { createGroup } from "./create-group.js";
import { engineContext, engineOf, type GroupState } from "./group-state.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";

let alice: TestInstallation;
let bob: TestInstallation;
let a: GroupState;
let b: GroupState;

async function sendMany(n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = await encryptMessage(a, new Uint8Array([i & 0xff]));
    a = r.state;
    out.push(r.message);
  }
  return out;
}

describe("XMTP's policy", () => {
  before(fresh);

  async function fresh() {
    alice = await installation("a");
    bob = await installation("b");
    a = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
    const add = await updateMembership(a, {
      add: [bob.bundle.keyPackage],
      membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }),
      authenticate: allowAll,
    });
    a = add.state;
    ({ state: b } = await joinFromWelcome({
      welcome: add.welcome!,
      keyPackage: bob.bundle.keyPackage,
      privateKeyPackage: bob.bundle.privateKeyPackage,
      authenticate: allowAll,
    }));
  }

  it("puts XMTP's extensions and required capabilities in the group context", () => {
    const ext = engineOf(b).groupContext.extensions;
    assert.deepEqual(
      ext.map((e) => e.extensionType),
      [ExtensionId.immutableMetadata, ExtensionId.mutableMetadata, ExtensionId.groupMembership, ExtensionId.groupPermissions, ExtensionId.requiredCapabilities],
    );
    const rc = ext.find((e) => e.extensionType === ExtensionId.requiredCapabilities);
    assert.deepEqual(rc?.extensionData, {
      extensionTypes: [0xff01, 0xff00, 0xff02, 0xf000, 0x000a, 0x0001],
      proposalTypes: [7],
      credentialTypes: [1],
    });
  });

  it("refuses an incoming PublicMessage", async () => {
    const { context } = engineContext(allowAll);
    const pub = await createCommit({ context, state: engineOf(a), wireAsPublicMessage: true });
    await assert.rejects(processMessage(b, encode(mlsMessageEncoder, pub.commit), allowAll), { code: "mls.public_message_refused" });
  });

  it(`reads application messages up to ${MAX_PAST_EPOCHS} epochs old, not older`, async () => {
    const msgs = await sendMany(MAX_PAST_EPOCHS + 2);
    let bob = b;
    for (let k = 0; k <= MAX_PAST_EPOCHS + 1; k++) {
      const r = await processMessage(bob, msgs[k]!, allowAll);
      assert.equal(r.kind, k <= MAX_PAST_EPOCHS ? "application" : "wrong_epoch", `${k} epochs later`);
      bob = (await selfUpdate(bob, allowAll)).state;
    }
  });

  it("keeps keys for out-of-order messages within the tolerance", async () => {
    const msgs = await sendMany(10);
    let bob = b;
    const last = await processMessage(bob, msgs[9]!, allowAll);
    assert.equal(last.kind, "application");
    bob = last.state;
    assert.equal((await processMessage(bob, msgs[8]!, allowAll)).kind, "application");
    assert.equal((await processMessage(bob, msgs[4]!, allowAll)).kind, "application");
    await assert.rejects(processMessage(bob, msgs[0]!, allowAll), { code: "mls.ratchet_window" });
  });

  it(`refuses a message more than ${MAXIMUM_FORWARD_DISTANCE} generations ahead`, async () => {
    await fresh();
    const msgs = await sendMany(MAXIMUM_FORWARD_DISTANCE + 2);
    await assert.rejects(processMessage(b, msgs[MAXIMUM_FORWARD_DISTANCE + 1]!, allowAll), { code: "mls.ratchet_window" });
    assert.equal((await processMessage(b, msgs[MAXIMUM_FORWARD_DISTANCE]!, allowAll)).kind, "application");
  });

  it("joins only groups that carry XMTP's extensions, and only with the key package addressed", async () => {
    const { context } = engineContext(allowAll);
    const carol = await installation("c");
    const dave = await installation("d");
    // A plain MLS group (no XMTP extensions) made directly on the engine.
    const plain = await createEngineGroup({
      context,
      groupId: new Uint8Array([7]),
      keyPackage: decodeKeyPackage(alice.bundle.keyPackage),
      privateKeyPackage: decodePrivateKeyPackage(alice.bundle.privateKeyPackage),
    });
    const add = await createCommit({
      context,
      state: plain,
      extraProposals: [{ proposalType: 1, add: { keyPackage: decodeKeyPackage(carol.bundle.keyPackage) } }],
      ratchetTreeExtension: true,
    });
    const welcome = encode(mlsMessageEncoder, add.welcome!);
    await assert.rejects(
      joinFromWelcome({ welcome, keyPackage: carol.bundle.keyPackage, privateKeyPackage: carol.bundle.privateKeyPackage, authenticate: allowAll }),
      { code: "mls.invalid" },
    );
    await assert.rejects(
      joinFromWelcome({ welcome, keyPackage: dave.bundle.keyPackage, privateKeyPackage: dave.bundle.privateKeyPackage, authenticate: allowAll }),
      { code: "mls.no_matching_key_package" },
    );
  });

  it("stores state with a version byte and refuses unknown versions and corrupt blobs", () => {
    const blob = encodeGroupState(b);
    assert.equal(blob[0], 1);
    assert.equal(decodeGroupState(blob).epoch, b.epoch);
    const v2 = blob.slice();
    v2[0] = 2;
    assert.throws(() => decodeGroupState(v2), { code: "mls.bad_state_version" });
    assert.throws(() => decodeGroupState(blob.subarray(0, blob.length - 1)), { code: "mls.corrupt_state" });
    assert.throws(() => decodeGroupState(new Uint8Array(0)), { code: "mls.corrupt_state" });
  });
});
