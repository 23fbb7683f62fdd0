// The shared identifiers (ids.ts): what each constructor takes and refuses,
// the hex form of an installation key both ways, and the ids the official
// client sent while registering (captured fixtures), which must all pass.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { officialRegistration } from "@parley/testkit";
import {
  asInboxId,
  asInstallationId,
  asInstallationKey,
  decode,
  identityApi,
  installationIdOf,
  installationKeyOf,
  isInboxId,
  isInstallationId,
  type InstallationId,
} from "./index.js";

const invalidId = { name: "ProtoError", code: "proto.invalid_id" };

describe("inbox ids", () => {
  it("are 64 lowercase hex digits", () => {
    const id = "0123456789abcdef".repeat(4);
    assert.equal(asInboxId(id), id);
    for (const bad of ["", "ab".repeat(31), "ab".repeat(33), "AB".repeat(32), "g".repeat(64), ` ${"a".repeat(63)}`, `${"a".repeat(64)}\n`]) {
      assert.equal(isInboxId(bad), false, JSON.stringify(bad));
      assert.throws(() => asInboxId(bad), invalidId, JSON.stringify(bad));
    }
  });

  it("accepts every inbox id the official client sent while registering", () => {
    const registration = officialRegistration();
    const published = decode(identityApi.PublishIdentityUpdateRequestSchema, registration.request("PublishIdentityUpdate"));
    const asked = decode(identityApi.GetIdentityUpdatesRequestSchema, registration.request("GetIdentityUpdates"));
    const sent = [published.identityUpdate?.inboxId ?? "", ...asked.requests.map((r) => r.inboxId)];
    assert.deepEqual(sent.map(asInboxId), [registration.inboxId, registration.inboxId]);
  });
});

describe("installation keys and ids", () => {
  it("a key is 32 bytes, kept as given", () => {
    const key = new Uint8Array(32).fill(7);
    assert.equal(asInstallationKey(key), key);
    for (const length of [0, 31, 33, 64]) assert.throws(() => asInstallationKey(new Uint8Array(length)), invalidId);
  });

  it("an id is the key's lowercase hex, and back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const id = installationIdOf(bytes);
        assert.equal(id, Buffer.from(bytes).toString("hex"));
        assert.equal(isInstallationId(id), true);
        assert.deepEqual(installationKeyOf(id), bytes);
      }),
    );
    assert.throws(() => installationIdOf(new Uint8Array(31)), invalidId);
  });

  it("an id is refused in any other spelling, even when cast", () => {
    assert.throws(() => asInstallationId("AB".repeat(32)), invalidId);
    assert.throws(() => asInstallationId("ab".repeat(31)), invalidId);
    assert.throws(() => installationKeyOf("zz".repeat(32) as InstallationId), invalidId);
  });

  it("accepts the official client's installation id", () => {
    const { installationId } = officialRegistration();
    assert.equal(installationIdOf(installationKeyOf(asInstallationId(installationId))), installationId);
  });
});
