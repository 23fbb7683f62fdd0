// The requests the official @xmtp/node-sdk sent while registering a new
// wallet (captured by @parley/testkit's capture script) decode with our
// protos to the fields the client meant, and re-encode to the same bytes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { officialRegistration } from "@parley/testkit";
import { associations, decode, encode, identityApi, mlsApi } from "./index.js";

const registration = officialRegistration();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** Reads the start of a TLS-serialized KeyPackage (RFC 9420 section 10). */
function keyPackagePrefix(bytes: Uint8Array) {
  let at = 0;
  const u16 = () => {
    const value = ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
    at += 2;
    return value;
  };
  // Variable-length vector with the QUIC-style length prefix of section 2.1.2.
  const vector = () => {
    const first = bytes[at] ?? 0;
    const size = 1 << (first >> 6);
    let length = first & 0x3f;
    for (let i = 1; i < size; i++) length = (length << 8) | (bytes[at + i] ?? 0);
    at += size;
    const value = bytes.subarray(at, at + length);
    at += length;
    return value;
  };
  const version = u16();
  const cipherSuite = u16();
  const initKey = vector();
  const encryptionKey = vector();
  const signatureKey = vector();
  const credentialType = u16();
  const identity = vector();
  return { version, cipherSuite, initKey, encryptionKey, signatureKey, credentialType, identity };
}

describe(`requests of Client.create, captured from ${registration.capturedWith}`, () => {
  it("are the calls official-sdk.md lists, in order", () => {
    assert.deepEqual(
      registration.requests.map((r) => r.path.split("/").at(-1)),
      ["GetInboxIds", "GetInboxIds", "GetIdentityUpdates", "UploadKeyPackage", "PublishIdentityUpdate", "GetIdentityUpdates"],
    );
  });

  it("re-encode to the bytes the client sent", () => {
    const schemas = {
      GetInboxIds: identityApi.GetInboxIdsRequestSchema,
      GetIdentityUpdates: identityApi.GetIdentityUpdatesRequestSchema,
      UploadKeyPackage: mlsApi.UploadKeyPackageRequestSchema,
      PublishIdentityUpdate: identityApi.PublishIdentityUpdateRequestSchema,
    } as const;
    for (const request of registration.requests) {
      const method = request.path.split("/").at(-1) as keyof typeof schemas;
      const schema = schemas[method];
      assert.deepEqual(encode(schema, decode(schema, request.bytes) as never), request.bytes, method);
    }
  });

  it("GetInboxIds asks for the lowercase wallet address as an Ethereum identifier", () => {
    const request = decode(identityApi.GetInboxIdsRequestSchema, registration.request("GetInboxIds"));
    assert.equal(request.requests.length, 1);
    assert.equal(request.requests[0]?.identifier, registration.walletAddress);
    assert.match(request.requests[0]?.identifier ?? "", /^0x[0-9a-f]{40}$/);
    assert.equal(request.requests[0]?.identifierKind, associations.IdentifierKind.ETHEREUM);
  });

  it("GetIdentityUpdates asks for the new inbox from sequence 0", () => {
    const request = decode(identityApi.GetIdentityUpdatesRequestSchema, registration.request("GetIdentityUpdates"));
    assert.deepEqual(
      request.requests.map((r) => [r.inboxId, r.sequenceId]),
      [[registration.inboxId, 0n]],
    );
  });

  it("UploadKeyPackage carries a suite-3 key package with the inbox id credential", () => {
    const request = decode(mlsApi.UploadKeyPackageRequestSchema, registration.request("UploadKeyPackage"));
    assert.equal(request.isInboxIdCredential, true);
    const bytes = request.keyPackage?.keyPackageTlsSerialized ?? new Uint8Array();
    const keyPackage = keyPackagePrefix(bytes);
    assert.equal(keyPackage.version, 1, "mls10");
    assert.equal(keyPackage.cipherSuite, 3, "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519");
    assert.equal(keyPackage.initKey.length, 32, "X25519 init key");
    assert.equal(keyPackage.encryptionKey.length, 32, "X25519 leaf encryption key");
    assert.equal(hex(keyPackage.signatureKey), registration.installationId, "the installation key signs the leaf");
    assert.equal(keyPackage.credentialType, 1, "basic credential");
    const credential = decode(associations.MlsCredentialSchema, keyPackage.identity);
    assert.equal(credential.inboxId, registration.inboxId);
  });

  it("PublishIdentityUpdate creates the inbox and adds the installation, the wallet signing once", () => {
    const request = decode(identityApi.PublishIdentityUpdateRequestSchema, registration.request("PublishIdentityUpdate"));
    const update = request.identityUpdate;
    assert.ok(update);
    assert.equal(update.inboxId, registration.inboxId);
    assert.ok(update.clientTimestampNs > 0n);

    assert.equal(update.actions.length, 2);
    const [create, add] = update.actions.map((a) => a.kind);
    assert.equal(create?.case, "createInbox");
    assert.equal(add?.case, "add");
    if (create?.case !== "createInbox" || add?.case !== "add") return;

    assert.equal(create.value.initialIdentifier, registration.walletAddress);
    // Client.create without a `nonce` option uses nonce 1, not 0 (the spec
    // notes say 0): seen in these bytes and in generateInboxId(identifier).
    assert.equal(create.value.nonce, 1n);
    const derived = createHash("sha256")
      .update(`${registration.walletAddress}${create.value.nonce}`)
      .digest("hex");
    assert.equal(update.inboxId, derived, "inbox id = sha256(address ‖ decimal nonce)");
    assert.equal(create.value.initialIdentifierKind, associations.IdentifierKind.ETHEREUM);
    const walletSignature = create.value.initialIdentifierSignature?.signature;
    assert.equal(walletSignature?.case, "erc191");
    assert.equal(walletSignature?.value.bytes.length, 65);

    const member = add.value.newMemberIdentifier?.kind;
    assert.equal(member?.case, "installationPublicKey");
    assert.equal(hex(member?.value), registration.installationId);
    const existing = add.value.existingMemberSignature?.signature;
    assert.equal(existing?.case, "erc191");
    assert.deepEqual(existing?.value.bytes, walletSignature?.value.bytes, "one wallet signature serves both actions");
    const installation = add.value.newMemberSignature?.signature;
    assert.equal(installation?.case, "installationKey");
    if (installation?.case !== "installationKey") return;
    assert.equal(installation.value.bytes.length, 64, "Ed25519 signature");
    assert.equal(hex(installation.value.publicKey), registration.installationId);
  });

  it("the wallet signed the identity update's text once", () => {
    assert.equal(registration.signedTexts.length, 1);
    const text = registration.signedTexts[0] ?? "";
    assert.ok(text.startsWith("XMTP : Authenticate to inbox\n\n"));
    assert.ok(text.includes(`Inbox ID: ${registration.inboxId}\n`));
    assert.ok(text.includes(`(Owner: ${registration.walletAddress})`));
    assert.ok(text.includes(`(ID: ${registration.installationId})`));
    assert.ok(text.endsWith("\n\nFor more info: https://xmtp.org/signatures"));
  });
});
