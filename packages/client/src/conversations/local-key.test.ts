// Local keys (local-key.ts) and the decision on a welcome for a group id we
// hold (known-group-welcome.ts), without a node: group states made with
// @parley/mls directly, with the group ids a maker chooses, in a store in
// memory.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { asInboxId, createGroup, ed25519Keygen, encodeGroupState, epochAuthenticator, type GroupState } from "@parley/mls";
import { LocalStore } from "../store/local-store.js";
import { newDmExtensions, newGroupExtensions } from "./group-metadata.js";
import { knownGroupWelcome, type HeldGroup } from "./known-group-welcome.js";
import { heldOnGroupId, newLocalKey } from "./local-key.js";

const alice = asInboxId("a".repeat(64));
const bob = "b".repeat(64);
const { signKey } = ed25519Keygen();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

const group = (groupId: Uint8Array, name = "g") =>
  createGroup({ signer: { inboxId: alice, privateKey: signKey }, extensions: newGroupExtensions(alice, { groupName: name }), authenticate: () => true, groupId });

/** The same state, read as if at `epoch`: the decision compares epochs and authenticators only. */
const atEpoch = (state: GroupState, epoch: bigint): GroupState => ({ ...state, epoch });

const held = (state: GroupState, active: boolean, recorded: readonly GroupState[] = [state]): HeldGroup => ({
  state,
  active,
  authenticatorAt: (epoch) => {
    const at = recorded.find((s) => s.epoch === epoch);
    return at === undefined ? undefined : epochAuthenticator(at);
  },
});

describe("@parley/client local keys: several groups on one group id", () => {
  let store: LocalStore;
  let n = 0n;
  const insert = (localKey: Uint8Array, state: GroupState) =>
    store.insertGroup({ groupId: localKey, state: encodeGroupState(state), cursor: 0n, createdNs: (n += 1n), addedByInboxId: alice });

  before(() => {
    store = new LocalStore(":memory:");
  });
  after(() => store.close());

  it("the first group on an id is keyed by the id; later ones by the id, 0x00 and 8 random bytes; a group whose own id looks like such a key is not a sibling", async () => {
    const id = randomBytes(16);
    const first = await group(id, "first");
    assert.equal(hex(newLocalKey(store, id)), hex(id));
    insert(id, first);

    const second = await group(id, "second");
    const key = newLocalKey(store, id);
    assert.equal(key.length, id.length + 9);
    assert.equal(hex(key.subarray(0, id.length + 1)), `${hex(id)}00`);
    assert.notEqual(hex(newLocalKey(store, id)), hex(key), "random: no maker chooses it");
    insert(key, second);

    // A maker's group id chosen to look like a later key of `id`.
    const lookalikeId = Buffer.concat([id, Buffer.of(0), randomBytes(8)]);
    insert(newLocalKey(store, lookalikeId), await group(lookalikeId, "lookalike"));

    assert.deepEqual(
      heldOnGroupId(store, id).map((row) => hex(row.groupId)),
      [hex(id), hex(key)],
    );
    assert.deepEqual(heldOnGroupId(store, lookalikeId).map((row) => hex(row.groupId)), [hex(lookalikeId)]);
    assert.deepEqual(heldOnGroupId(store, randomBytes(16)), []);
  });

  it("a welcome for a held id: a replay is refused, a re-add replaces the group we left, anything else joins beside", async () => {
    const id = randomBytes(16);
    const ours = await group(id);
    const squat = await group(id, "squat");
    const dm = await createGroup({ signer: { inboxId: alice, privateKey: signKey }, extensions: newDmExtensions(alice, bob), authenticate: () => true, groupId: id });
    const table: [string, readonly HeldGroup[], GroupState, ReturnType<typeof knownGroupWelcome>][] = [
      ["a replay while we are in it", [held(ours, true)], ours, { kind: "refuse", reason: "a welcome to a group we are an active member of" }],
      ["a replay after our removal", [held(atEpoch(ours, 3n), false, [ours])], ours, { kind: "refuse", reason: "a welcome to an epoch no later than the one we left" }],
      ["a replay of the second of two groups", [held(squat, true), held(ours, true)], ours, { kind: "refuse", reason: "a welcome to a group we are an active member of" }],
      ["a re-add at a later epoch", [held(squat, true), held(ours, false, [])], atEpoch(ours, 4n), { kind: "replace", index: 1 }],
      ["another group while we are in ours", [held(ours, true)], squat, { kind: "join" }],
      ["the same metadata at an epoch we never held, while in it (a node withholding commits)", [held(ours, true)], atEpoch(ours, 7n), { kind: "join" }],
      ["another group at an epoch no later than the one we left", [held(atEpoch(ours, 3n), false, [])], squat, { kind: "join" }],
      ["other metadata after our removal", [held(ours, false, [])], atEpoch(dm, 4n), { kind: "join" }],
    ];
    for (const [name, on, welcome, expected] of table) assert.deepEqual(knownGroupWelcome(on, welcome), expected, name);
  });
});
