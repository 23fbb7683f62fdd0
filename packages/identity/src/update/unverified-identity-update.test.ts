// Untrusted identity-update bytes: decoding and validating any byte string
// gives a value or an IdentityError, never another exception (fast-check,
// random and mutated updates); valid ones decode to what was built.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isIdentityError } from "../identity-error.js";
import { registration, testInstallation, testWallet } from "../identity.test-util.js";
import { validateIdentityUpdate } from "../state/replay-inbox.js";
import { decodeIdentityUpdate } from "./unverified-identity-update.js";

const alice = testWallet("alice");
const phone = testInstallation("phone");
const valid = await registration(alice, phone);

function decodesOrIdentityError(bytes: Uint8Array): void {
  try {
    decodeIdentityUpdate(bytes);
  } catch (error) {
    assert.ok(isIdentityError(error), `unexpected ${String(error)}`);
  }
}

/** A copy of `bytes` with some bytes changed, cut, or inserted. */
const mutated = fc
  .record({
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
    cut: fc.option(fc.nat()),
    insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }))),
  })
  .map(({ flips, cut, insert }) => {
    let bytes = valid.bytes.slice();
    for (const [at, mask] of flips) {
      const i = at % bytes.length;
      bytes[i] = (bytes[i] ?? 0) ^ mask;
    }
    if (insert !== null) {
      const i = insert[0] % bytes.length;
      bytes = new Uint8Array([...bytes.subarray(0, i), ...insert[1], ...bytes.subarray(i)]);
    }
    if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return bytes;
  });

describe("decodeIdentityUpdate", () => {
  it("decodes what the builder wrote", () => {
    const update = decodeIdentityUpdate(valid.bytes);
    assert.equal(update.inboxId, valid.inboxId);
    assert.deepEqual(
      update.actions.map((a) => a.type),
      ["createInbox", "addAssociation"],
    );
    const [create, add] = update.actions;
    assert.ok(create?.type === "createInbox" && add?.type === "addAssociation");
    assert.deepEqual(create.identifier, alice.member);
    assert.deepEqual(add.newMember, phone.member);
    assert.equal(add.newMemberSignature.kind, "installationKey");
  });

  it("refuses a mixed-case address, a short installation key, a missing signature", () => {
    const upper = new TextEncoder().encode(alice.member.address.toUpperCase().replace("0X", "0x"));
    const lower = new TextEncoder().encode(alice.member.address);
    const bytes = valid.bytes.slice();
    const at = Buffer.from(bytes).indexOf(Buffer.from(lower));
    bytes.set(upper, at);
    assert.throws(() => decodeIdentityUpdate(bytes), { code: "identity.invalid_identifier" });
    // IdentityUpdate { actions: [ { add: { new_member_identifier: { installation_public_key: 0x01 } } } ] }
    const shortKey = new Uint8Array([0x0a, 0x07, 0x12, 0x05, 0x0a, 0x03, 0x12, 0x01, 0x01]);
    assert.throws(() => decodeIdentityUpdate(shortKey), { code: "identity.invalid_identifier" });
    // The same with a 32-byte key but no signatures.
    const noSignature = new Uint8Array([0x0a, 0x26, 0x12, 0x24, 0x0a, 0x22, 0x12, 0x20, ...new Uint8Array(32)]);
    assert.throws(() => decodeIdentityUpdate(noSignature), { code: "identity.malformed" });
  });

  it("gives a value or an IdentityError for any bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodesOrIdentityError), { numRuns: 2000 });
  });

  it("gives a value or an IdentityError for mutated updates", () => {
    fc.assert(fc.property(mutated, decodesOrIdentityError), { numRuns: 2000 });
  });
});

describe("validateIdentityUpdate on untrusted bytes", () => {
  it("resolves to a result, never a rejection, for random and mutated bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, fc.uint8Array({ maxLength: 256 })), async (bytes) => {
        const result = await validateIdentityUpdate(undefined, bytes);
        // A mutation that leaves the update valid is possible only outside what the signatures cover.
        if (result.ok) assert.equal(result.value.state.inboxId, valid.inboxId);
      }),
      { numRuns: 300 },
    );
  });
});
