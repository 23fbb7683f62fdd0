// State written by an earlier build must still load (STYLE.md, stored-state
// fixtures): fixtures/state-v1-bob.bin is bob's group state as version 1
// wrote it (ts-mls 2.0.0-rc.10), and fixtures/state-v1-alice-message.bin an
// application message alice sent in that epoch. Fixture keys are test keys.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { decodeGroupState, groupExtensions, groupMembers, processMessage, STATE_VERSION } from "../src/index.js";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/${name}`, import.meta.url)));

describe("stored state, version 1", () => {
  it("loads and still reads a message of its epoch", async () => {
    const blob = fixture("state-v1-bob.bin");
    assert.equal(blob[0], 1);
    assert.equal(STATE_VERSION, 1);
    const state = decodeGroupState(blob);
    assert.equal(state.epoch, 1n);
    assert.deepEqual(state.groupId, new Uint8Array(16).fill(0x11));
    assert.deepEqual(groupMembers(state).map((m) => m.inboxId[0]), ["a", "b"]);
    assert.ok(groupExtensions(state).membership.length > 0);
    const r = await processMessage(state, fixture("state-v1-alice-message.bin"), () => true);
    assert.equal(r.kind, "application");
    if (r.kind === "application") {
      assert.equal(new TextDecoder().decode(r.plaintext), "stored state still reads this");
      assert.equal(r.sender?.inboxId[0], "a");
    }
  });
});
