// Key packages as XMTP makes and checks them (xmtp-client.md 1.3).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "./crypto/bytes.js";
import { nodeCiphersuite } from "./crypto/provider.js";
import { ed25519Keygen } from "./crypto/signature.js";
import { encode, generateKeyPackageWithKey, keyPackageEncoder, makeCustomExtension } from "./engine/ts-mls.js";
import { createKeyPackage, decodeKeyPackage, validateKeyPackage } from "./key-package.js";
import { isMlsError } from "./mls-error.js";
import { vector } from "./tls.js";
import { asInboxId, xmtpCredential, type InboxId } from "./xmtp/credential.js";
import { ExtensionId, KEY_PACKAGE_LIFETIME_SECONDS, xmtpCapabilities } from "./xmtp/profile.js";

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
    // opaque application_id<V>: a 2-byte length (64) and the inbox id, as libxmtp writes it.
    assert.equal(Buffer.from(appId?.extensionData.subarray(0, 2) ?? []).toString("hex"), "4040");
    assert.equal(new TextDecoder().decode(appId?.extensionData.subarray(2)), inboxId);
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

  it("refuses a credential whose inbox id is not 64 lowercase hex digits, though correctly signed", async () => {
    // Built with the engine directly: createKeyPackage refuses such ids.
    for (const bad of ["AB".repeat(32), "ab".repeat(31), "alice"]) {
      const { signKey, publicKey } = ed25519Keygen();
      const { publicPackage } = await generateKeyPackageWithKey({
        credential: xmtpCredential(bad as InboxId),
        capabilities: xmtpCapabilities(),
        lifetime: { notBefore: now - 3600n, notAfter: now + 3600n },
        extensions: [makeCustomExtension({ extensionType: ExtensionId.lastResort, extensionData: new Uint8Array(0) })],
        leafNodeExtensions: [{ extensionType: ExtensionId.applicationId, extensionData: vector(utf8(bad)) }],
        signatureKeyPair: { signKey, publicKey },
        cipherSuite: nodeCiphersuite(),
      });
      await assert.rejects(validateKeyPackage(encode(keyPackageEncoder, publicPackage), { nowSeconds: now }), { code: "mls.bad_key_package" }, bad);
    }
  });

  it("refuses to make a key package for an inbox id an untyped caller got wrong", async () => {
    const { signKey } = ed25519Keygen();
    await assert.rejects(createKeyPackage({ inboxId: "AB".repeat(32) as InboxId, privateKey: signKey }), { code: "mls.usage" });
  });

  it("accepts the same key package wrapped in an MLSMessage", async () => {
    const { bundle } = await make();
    const wrapped = new Uint8Array([0, 1, 0, 5, ...bundle.keyPackage]);
    assert.deepEqual(decodeKeyPackage(wrapped).initKey, bundle.initKey);
    assert.equal((await validateKeyPackage(wrapped, { nowSeconds: now })).inboxId, inboxId);
  });
});

describe("validateKeyPackage on a package ts-mls decodes but cannot re-encode", () => {
  // Found by the fuzz test: a mutated extension decodes into a shape the
  // encoder throws a TypeError on. It must be a typed refusal.
  const bytes = Buffer.from(
    "0001000320003118705ff418f4b5ea7a4c8a691eb0d4ac1baa8c896af11f7a30d891e85547203bf5bcd1f0bfbb9f9b10db1773b640a55e4a441b9b25c04982160719b9a24e6a202886f7ce0a24c0b2fc486a1bf660fa862e9cbac26e79252afea0890fe97e8e6f000140420a40623030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030300200010200030c000a0001f000ff02ff00ff0102000702000101000000006b086888000000006b773498404600034042404062303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030404096f471dfd5f51f72d891a86adb5e57b88876f31f3d2f72b4265ca72b606d6f169acde35ef3a267b562a1d5fede8f637cfbebdcb7cc45e74053015b2a7116c20303000a0040407317f53e1f22aae86dd9cf8ec6a7048176af7238cadc5f45cd0f2af51c75403cb53c9283cbc7d0e922ebcb953f0e5a2cad20bca4f637da53ee54de6ff9dfdc0a",
    "hex",
  );
  it("refuses it with mls.malformed", async () => {
    await assert.rejects(validateKeyPackage(new Uint8Array(bytes), { nowSeconds: 1_795_716_000n }), (e: unknown) => isMlsError(e) && e.code === "mls.malformed");
  });
});
