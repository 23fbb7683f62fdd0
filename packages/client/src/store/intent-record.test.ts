// The intent records (intent-record.ts) and the legacy JSON they replace
// (migrations/legacy-intent-json.ts), fast-check with a fixed seed
// (PARLEY_FC_SEED to explore): every operation and recipient list comes
// back as it went in; any bytes or text either decode to a value, which for
// records encodes back to the same bytes (one encoding per value), or are
// refused with `client.bad_store`, never another error.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ClientError } from "../client-error.js";
import { MetadataField, PermissionPolicy, PermissionUpdateType } from "../conversations/group-permissions.js";
import {
  decodeIntentOperation,
  decodeWelcomeRecipients,
  encodeIntentOperation,
  encodeWelcomeRecipients,
  INTENT_RECORD_VERSION,
  type IntentOperation,
  type WelcomeRecipient,
} from "./intent-record.js";
import { legacyIntentOperation, legacyWelcomeRecipients } from "./migrations/legacy-intent-json.js";

const SEED = Number(process.env["PARLEY_FC_SEED"] ?? 20261207);
const RUNS = 500;

const isBadStore = (e: unknown) => e instanceof ClientError && e.code === "client.bad_store";

/** Runs `decode`; a throw must be `client.bad_store`. */
function decodedOrRefused<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (e) {
    assert.ok(isBadStore(e), `not client.bad_store: ${String(e)}`);
    return undefined;
  }
}

const text = fc.string({ unit: "grapheme", maxLength: 40 });
const operation: fc.Arbitrary<IntentOperation> = fc.oneof(
  fc.record({ encodedContent: fc.uint8Array({ maxLength: 64 }), idempotencyKey: text, shouldPush: fc.boolean() }).map((params) => ({ kind: "message" as const, params: { ...params } })),
  fc.constant({ kind: "key_update" as const, params: {} }),
  fc.record({ addInboxes: fc.array(text, { maxLength: 4 }), removeInboxes: fc.array(text, { maxLength: 4 }) }).map((params) => ({ kind: "membership" as const, params: { ...params } })),
  fc.record({ key: text, value: text }).map((params) => ({ kind: "metadata" as const, params: { ...params } })),
  fc
    .record({ change: fc.constantFrom("addAdmin", "removeAdmin", "addSuperAdmin", "removeSuperAdmin" as const), inboxId: text })
    .map((params) => ({ kind: "admins" as const, params: { ...params } })),
  fc
    .record(
      {
        type: fc.constantFrom(...Object.values(PermissionUpdateType)),
        policy: fc.constantFrom(...Object.values(PermissionPolicy)),
        metadataField: fc.constantFrom(...Object.values(MetadataField)),
      },
      { requiredKeys: ["type", "policy"] },
    )
    .map((params) => ({ kind: "permission" as const, params: { ...params } })),
);
const hex = fc.string({ unit: fc.constantFrom(..."0123456789abcdefG"), maxLength: 80 });
const recipients: fc.Arbitrary<WelcomeRecipient[]> = fc.array(
  fc.record({ installationKey: fc.uint8Array({ minLength: 32, maxLength: 32 }), initKey: fc.uint8Array({ minLength: 1, maxLength: 48 }) }).map((r) => ({ ...r })),
  { maxLength: 4 },
);

/** A valid record spoiled: a byte changed, cut short, or lengthened. */
const spoiled = (valid: fc.Arbitrary<Uint8Array>) =>
  fc.oneof(
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      const out = b.slice();
      if (out.length > 0) out[i % out.length]! ^= x;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, n % Math.max(b.length, 1))),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([b, tail]) => Uint8Array.from([...b, ...tail])),
  );

describe("@parley/client store: intent records", () => {
  it("every operation and recipient list decodes to what was encoded", () => {
    fc.assert(
      fc.property(operation, (op) => {
        assert.deepEqual(decodeIntentOperation(encodeIntentOperation(op)), op.kind === "membership" ? { kind: op.kind, params: { addInboxes: op.params.addInboxes ?? [], removeInboxes: op.params.removeInboxes ?? [] } } : op);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    fc.assert(
      fc.property(recipients, (list) => assert.deepEqual(decodeWelcomeRecipients(encodeWelcomeRecipients(list)), list)),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("random and spoiled bytes are refused with client.bad_store, or decode to the one value that encodes to them", () => {
    const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([INTENT_RECORD_VERSION, ...b])));
    fc.assert(
      fc.property(fc.oneof(anyBytes, spoiled(operation.map(encodeIntentOperation))), (bytes) => {
        const op = decodedOrRefused(() => decodeIntentOperation(bytes));
        if (op !== undefined) assert.deepEqual(encodeIntentOperation(op), bytes);
      }),
      { numRuns: RUNS * 4, seed: SEED },
    );
    fc.assert(
      fc.property(fc.oneof(anyBytes, spoiled(recipients.map(encodeWelcomeRecipients))), (bytes) => {
        const list = decodedOrRefused(() => decodeWelcomeRecipients(bytes));
        if (list !== undefined) assert.deepEqual(encodeWelcomeRecipients(list), bytes);
      }),
      { numRuns: RUNS * 4, seed: SEED },
    );
  });

  it("refuses an unknown version or kind, values outside their sets, lengths past the end, text that is not UTF-8", () => {
    const refused = (bytes: number[]) => assert.throws(() => decodeIntentOperation(Uint8Array.from(bytes)), isBadStore);
    refused([]);
    refused([2, 2]); // a version this code does not know
    refused([1, 0]); // no kind 0
    refused([1, 7]);
    refused([1, 2, 0]); // a key update has no body
    refused([1, 5, 9, 0, 0, 0, 0]); // admin list change 9
    refused([1, 6, 0, 6, 0]); // policy 6
    refused([1, 6, 9, 0, 0]); // update type 9
    refused([1, 6, 0, 0, 1, 6]); // metadata field 6
    refused([1, 6, 0, 0, 2]); // a boolean 2
    refused([1, 4, 0, 0, 0, 2, 0xc3, 0x28, 0, 0, 0, 0]); // not UTF-8
    refused([1, 4, 0xff, 0xff, 0xff, 0xff]); // a length past the end
    refused([1, 3, 0xff, 0xff, 0xff, 0xff]); // a count past the end
    const key = (n: number) => [0, 0, 0, n, ...new Array<number>(n).fill(1)];
    assert.throws(() => decodeWelcomeRecipients(Uint8Array.from([1, 0, 0, 0, 1, ...key(31), ...key(32)])), isBadStore);
    assert.throws(() => decodeWelcomeRecipients(Uint8Array.from([1, 0, 0, 0, 1, ...key(32), ...key(0)])), isBadStore);
    assert.throws(() => decodeWelcomeRecipients(Uint8Array.from([1, 0xff, 0xff, 0xff, 0xff])), isBadStore);
  });
});

describe("@parley/client store: the legacy JSON of intents (read by migration 2 only)", () => {
  it("what the old store wrote is read as the same operation and recipients", () => {
    const bytes = Uint8Array.of(10, 2, 104, 105);
    assert.deepEqual(legacyIntentOperation("message", JSON.stringify({ encoded: "0a026869", idempotencyKey: "k", shouldPush: true }), "intent 1"), {
      kind: "message",
      params: { encodedContent: bytes, idempotencyKey: "k", shouldPush: true },
    });
    assert.deepEqual(legacyIntentOperation("key_update", "{}", "intent 2"), { kind: "key_update", params: {} });
    assert.deepEqual(legacyIntentOperation("membership", "{}", "intent 3"), { kind: "membership", params: { addInboxes: [], removeInboxes: [] } });
    assert.deepEqual(legacyIntentOperation("membership", JSON.stringify({ addInboxes: ["a"] }), "intent 3"), {
      kind: "membership",
      params: { addInboxes: ["a"], removeInboxes: [] },
    });
    assert.deepEqual(legacyIntentOperation("permission", JSON.stringify({ type: 4, policy: 2, metadataField: 1 }), "intent 4"), {
      kind: "permission",
      params: { type: 4, policy: 2, metadataField: 1 },
    });
    assert.deepEqual(legacyIntentOperation("admins", JSON.stringify({ change: "addSuperAdmin", inboxId: "b" }), "intent 5"), {
      kind: "admins",
      params: { change: "addSuperAdmin", inboxId: "b" },
    });
    const installationKey = new Uint8Array(32).fill(7);
    const initKey = new Uint8Array(32).fill(9);
    const json = JSON.stringify([{ installationKey: Buffer.from(installationKey).toString("hex"), initKey: Buffer.from(initKey).toString("hex") }]);
    assert.deepEqual(legacyWelcomeRecipients(json, "intent 6"), [{ installationKey, initKey }]);
  });

  it("any text, and any JSON under any kind, is read or refused with client.bad_store", () => {
    const kinds = fc.constantFrom("message", "key_update", "membership", "metadata", "admins", "permission", "other");
    const params = fc.oneof(fc.string(), fc.json(), fc.dictionary(fc.constantFrom("encoded", "idempotencyKey", "shouldPush", "addInboxes", "removeInboxes", "key", "value", "change", "inboxId", "type", "policy", "metadataField"), fc.jsonValue()).map((o) => JSON.stringify(o)));
    fc.assert(
      fc.property(kinds, params, (kind, p) => {
        decodedOrRefused(() => legacyIntentOperation(kind, p, "intent 1"));
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.array(fc.record({ installationKey: hex, initKey: hex })).map((a) => JSON.stringify(a))), (p) => {
        decodedOrRefused(() => legacyWelcomeRecipients(p, "intent 1"));
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });

  it("refuses the wrong type, a bad hex string, an unknown change or policy", () => {
    const refused = (kind: string, params: unknown) => assert.throws(() => legacyIntentOperation(kind, JSON.stringify(params), "intent 1"), isBadStore);
    refused("message", { encoded: "0g", idempotencyKey: "k", shouldPush: true });
    refused("message", { encoded: "abc", idempotencyKey: "k", shouldPush: true });
    refused("message", { encoded: "00", idempotencyKey: 1, shouldPush: true });
    refused("message", { encoded: "00", idempotencyKey: "k", shouldPush: "yes" });
    refused("membership", { addInboxes: "a" });
    refused("metadata", { key: "group_name" });
    refused("admins", { change: "makeAdmin", inboxId: "b" });
    refused("permission", { type: 4, policy: 7 });
    refused("permission", { type: 4, policy: 2, metadataField: 1.5 });
    refused("send", {});
    refused("key_update", []);
    assert.throws(() => legacyIntentOperation("key_update", "{", "intent 1"), isBadStore);
    assert.throws(() => legacyWelcomeRecipients(JSON.stringify([{ installationKey: "00", initKey: "00" }]), "intent 1"), isBadStore);
    assert.throws(() => legacyWelcomeRecipients(JSON.stringify({}), "intent 1"), isBadStore);
  });
});
