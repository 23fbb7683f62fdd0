// Key packages as XMTP makes and checks them (xmtp-client.md 1.3).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ed25519Keygen } from "./crypto/signature.js";
import { createKeyPackage, decodeKeyPackage, validateKeyPackage } from "./key-package.js";
import { asInboxId } from "./xmtp/credential.js";
import { ExtensionId, KEY_PACKAGE_LIFETIME_SECONDS } from "./xmtp/profile.js";

const inboxId = asInboxId("ab".repeat(32));
const now = 1_800_000_000n;

async function make(options: { nowSeconds?: bigint; lifetimeSeconds?: bigint } = { nowSeconds: now }) {
  const { signKey, publicKey } = ed25519Keygen();
  return { bundle: await createKeyPackage({ inboxId, privateKey: signKey }, options), publicKey };
}

describe("key packages", () => {
  it("carries XMTP's credential, extensions, capabilities and a 12-week lifetime", async () => {
    const { bundle, publicKey } = await make();
    const v = await validateKeyPackage(bundle.keyPackage, { nowSeconds: now });
    assert.equal(v.inboxId, inboxId);
    assert.deepEqual(v.installationKey, publicKey);
    assert.deepEqual(bundle.installationKey, publicKey);
    assert.equal(v.isLastResort, true);
    assert.equal(v.notAfter - now, KEY_PACKAGE_LIFETIME_SECONDS);
    assert.equal(now - v.notBefore, 3600n);
    assert.equal(v.ref.length, 32);
    const kp = decodeKeyPackage(bundle.keyPackage);
    assert.equal(kp.cipherSuite, 3);
    assert.deepEqual(kp.initKey, bundle.initKey);
    // BasicCredential whose identity is MlsCredential{inbox_id}: field 1, length 64.
    assert.ok("identity" in kp.leafNode.credential);
    assert.equal(Buffer.from(kp.leafNode.credential.identity.subarray(0, 2)).toString("hex"), "0a40");
    const appId = kp.leafNode.extensions.find((e) => e.extensionType === ExtensionId.applicationId);
    assert.equal(new TextDecoder().decode(appId?.extensionData), inboxId);
    for (const id of [0xff00, 0xff01, 0xff02, 0xf000, 0x000a, 0x0001]) assert.ok(kp.leafNode.capabilities.extensions.includes(id));
    assert.deepEqual(kp.leafNode.capabilities.proposals, [7]);
    assert.deepEqual(kp.leafNode.capabilities.ciphersuites, [3]);
  });

  it("is checked for its lifetime on receive", async () => {
    const { bundle } = await make();
    await assert.rejects(validateKeyPackage(bundle.keyPackage, { nowSeconds: now + KEY_PACKAGE_LIFETIME_SECONDS + 1n }), {
      code: "mls.expired_key_package",
    });
    await assert.rejects(validateKeyPackage(bundle.keyPackage, { nowSeconds: now - 7200n }), { code: "mls.expired_key_package" });
    const long = await make({ nowSeconds: now, lifetimeSeconds: KEY_PACKAGE_LIFETIME_SECONDS * 4n });
    await assert.rejects(validateKeyPackage(long.bundle.keyPackage, { nowSeconds: now }), { code: "mls.expired_key_package" });
  });

  it("refuses a broken signature and trailing bytes", async () => {
    const { bundle } = await make();
    const flipped = bundle.keyPackage.slice();
    flipped[flipped.length - 1]! ^= 1;
    await assert.rejects(validateKeyPackage(flipped, { nowSeconds: now }), { code: "mls.bad_signature" });
    const longer = new Uint8Array([...bundle.keyPackage, 0]);
    await assert.rejects(validateKeyPackage(longer, { nowSeconds: now }), { code: "mls.malformed" });
  });

  it("accepts the same key package wrapped in an MLSMessage", async () => {
    const { bundle } = await make();
    const wrapped = new Uint8Array([0, 1, 0, 5, ...bundle.keyPackage]);
    assert.deepEqual(decodeKeyPackage(wrapped).initKey, bundle.initKey);
    assert.equal((await validateKeyPackage(wrapped, { nowSeconds: now })).inboxId, inboxId);
  });
});
