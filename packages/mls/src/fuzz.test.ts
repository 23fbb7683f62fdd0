// Every entry point that takes bytes, fed truncated, bit-flipped, random and
// length-lying input (fast-check): each must return a result or throw an
// MlsError with a code, never another error, and never hang.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { encryptMessage } from "./group/application.js";
import { updateMembership } from "./group/commit.js";
import { createGroup } from "./group/create-group.js";
import type { GroupState } from "./group/group-state.js";
import { joinFromWelcome } from "./group/join.js";
import { processMessage } from "./group/process-message.js";
import { privateInitKey } from "./group/private-keys.js";
import { parseFraming } from "./framing.js";
import { validateKeyPackage } from "./key-package.js";
import { isMlsError } from "./mls-error.js";
import { allowAll, groupExtensionsFor, installation, membership, type TestInstallation } from "./scenario.test-util.js";
import { decodeGroupState, encodeGroupState } from "./state-codec.js";
import { unwrapWelcome, wrapWelcome } from "./welcome-wrap.js";

const RUNS = 500;
const HANG_MS = 5000;

/** A valid input spoiled one of four ways. */
function spoiled(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = valid.length;
  return fc.oneof(
    fc.nat({ max: Math.max(0, n - 1) }).map((len) => valid.slice(0, len)),
    fc.tuple(fc.nat({ max: n - 1 }), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
      const out = valid.slice();
      out[at]! ^= 1 << bit;
      return out;
    }),
    fc.uint8Array({ minLength: 0, maxLength: 2 * n }),
    // A length that lies: a varint header claiming far more than is there.
    fc.tuple(fc.nat({ max: n - 1 }), fc.constantFrom([0x3f], [0x7f, 0xff], [0xbf, 0xff, 0xff, 0xff], [0x80, 0x00, 0x00, 0x01])).map(
      ([at, header]) => {
        const out = valid.slice();
        out.set(header.slice(0, n - at), at);
        return out;
      },
    ),
  );
}

async function typedOrOk(what: string, run: () => unknown): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    await Promise.race([Promise.resolve().then(run), hang]);
  } catch (error) {
    assert.ok(isMlsError(error), `${what} threw a ${(error as Error)?.name}: ${(error as Error)?.message}`);
    assert.match(error.code, /^mls\./);
  } finally {
    clearTimeout(timer);
  }
}

let alice: TestInstallation;
let bob: TestInstallation;
let a: GroupState;
let b: GroupState;
let keyPackage: Uint8Array;
let welcome: Uint8Array;
let application: Uint8Array;
let commit: Uint8Array;

describe("bad input gives typed errors", () => {
  before(async () => {
    alice = await installation("a");
    bob = await installation("b");
    const carol = await installation("c");
    keyPackage = bob.bundle.keyPackage;
    a = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
    const add = await updateMembership(a, { add: [keyPackage], membership: membership({}), authenticate: allowAll });
    a = add.state;
    welcome = add.welcome!;
    b = (await joinFromWelcome({ welcome, keyPackage, privateKeyPackage: bob.bundle.privateKeyPackage, authenticate: allowAll })).state;
    const m = await encryptMessage(a, new TextEncoder().encode("hello"));
    application = m.message;
    commit = (await updateMembership(m.state, { add: [carol.bundle.keyPackage], membership: membership({}), authenticate: allowAll })).commit;
  });

  it("validateKeyPackage", async () => {
    await fc.assert(fc.asyncProperty(spoiled(keyPackage), (bytes) => typedOrOk("validateKeyPackage", () => validateKeyPackage(bytes))), {
      numRuns: RUNS,
    });
  });

  it("parseFraming", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(spoiled(application), spoiled(commit)), (bytes) => typedOrOk("parseFraming", () => parseFraming(bytes))),
      { numRuns: RUNS },
    );
  });

  it("processMessage (application and commit)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(spoiled(application), spoiled(commit)), (bytes) =>
        typedOrOk("processMessage", () => processMessage(b, bytes, allowAll)),
      ),
      { numRuns: RUNS },
    );
  });

  it("joinFromWelcome", async () => {
    await fc.assert(
      fc.asyncProperty(spoiled(welcome), (bytes) =>
        typedOrOk("joinFromWelcome", () =>
          joinFromWelcome({ welcome: bytes, keyPackage, privateKeyPackage: bob.bundle.privateKeyPackage, authenticate: allowAll }),
        ),
      ),
      { numRuns: RUNS },
    );
  });

  it("unwrapWelcome", async () => {
    const wrapped = wrapWelcome(welcome, bob.bundle.initKey, 5n);
    const initPriv = privateInitKey(bob.bundle.privateKeyPackage);
    await fc.assert(
      fc.asyncProperty(spoiled(wrapped.data), spoiled(wrapped.welcomeMetadata), (data, welcomeMetadata) =>
        typedOrOk("unwrapWelcome", () => unwrapWelcome({ ...wrapped, data, welcomeMetadata }, initPriv)),
      ),
      { numRuns: RUNS },
    );
  });

  it("decodeGroupState", async () => {
    const blob = encodeGroupState(b);
    await fc.assert(fc.asyncProperty(spoiled(blob), (bytes) => typedOrOk("decodeGroupState", () => decodeGroupState(bytes))), {
      numRuns: RUNS,
    });
  });
});
