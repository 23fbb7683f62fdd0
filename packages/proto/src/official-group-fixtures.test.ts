// The group and welcome traffic of two official clients (alice creates a
// group with bob and sends; bob joins from the Welcome and replies), as our
// node received it, decodes with our protos to what the clients meant.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { officialGroupTraffic } from "@parley/testkit";
import { decode, identityApi, messageContents, mlsApi } from "./index.js";

const traffic = officialGroupTraffic();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The clear header of an MLSMessage (RFC 9420 6): wire format, group id, content type. */
function framing(data: Uint8Array) {
  const view = Buffer.from(data);
  const version = view.readUInt16BE(0);
  const wireFormat = view.readUInt16BE(2);
  const first = view[4] ?? 0;
  const size = 1 << (first >> 6);
  let length = first & 0x3f;
  for (let i = 1; i < size; i++) length = (length << 8) | (view[4 + i] ?? 0);
  const groupId = view.subarray(4 + size, 4 + size + length);
  const epoch = view.readBigUInt64BE(4 + size + length);
  const contentType = view[4 + size + length + 8];
  return { version, wireFormat, groupId, epoch, contentType };
}

function sent(method: string) {
  return traffic.requests.filter((r) => r.method === method);
}

describe(`group traffic captured from ${traffic.capturedWith}`, () => {
  it("every request decodes", () => {
    const schemas: Record<string, Parameters<typeof decode>[0]> = {
      GetIdentityUpdates: identityApi.GetIdentityUpdatesRequestSchema,
      FetchKeyPackages: mlsApi.FetchKeyPackagesRequestSchema,
      SendGroupMessages: mlsApi.SendGroupMessagesRequestSchema,
      SendWelcomeMessages: mlsApi.SendWelcomeMessagesRequestSchema,
      QueryGroupMessages: mlsApi.QueryGroupMessagesRequestSchema,
      QueryWelcomeMessages: mlsApi.QueryWelcomeMessagesRequestSchema,
      BatchPublishCommitLog: mlsApi.BatchPublishCommitLogRequestSchema,
      BatchQueryCommitLog: mlsApi.BatchQueryCommitLogRequestSchema,
    };
    for (const request of traffic.requests) {
      const schema = schemas[request.method];
      assert.ok(schema, `no schema for ${request.method}`);
      decode(schema, request.bytes);
    }
  });

  it("the adder fetches bob's key package", () => {
    const fetches = sent("FetchKeyPackages").map((r) => decode(mlsApi.FetchKeyPackagesRequestSchema, r.bytes));
    assert.ok(fetches.some((f) => f.installationKeys.some((k) => hex(k) === traffic.bob.installationId)));
  });

  it("group messages are PrivateMessages of the group: alice's commit and text, bob's key update and text", () => {
    const messages = sent("SendGroupMessages").flatMap(
      (r) => decode(mlsApi.SendGroupMessagesRequestSchema, r.bytes).messages,
    );
    const framings = messages.map((m) => {
      assert.equal(m.version.case, "v1");
      return framing(m.version.value?.data ?? new Uint8Array());
    });
    for (const f of framings) {
      assert.equal(f.version, 1, "mls10");
      assert.equal(f.wireFormat, 2, "PrivateMessage, never PublicMessage");
      assert.equal(hex(f.groupId), traffic.groupId);
    }
    // content_type: 1 application, 3 commit.
    assert.deepEqual(framings.map((f) => f.contentType), [3, 1, 3, 1]);
    assert.deepEqual(framings.map((f) => f.epoch), [0n, 1n, 1n, 2n]);
    // Text goes out with a push hint; commits go without.
    assert.deepEqual(messages.map((m) => m.version.value?.shouldPush), [false, true, false, true]);
  });

  it("the Welcome goes to bob's installation, HPKE-wrapped, with its sealed metadata", () => {
    const [request] = sent("SendWelcomeMessages");
    assert.ok(request);
    const welcomes = decode(mlsApi.SendWelcomeMessagesRequestSchema, request.bytes).messages;
    assert.equal(welcomes.length, 1);
    const welcome = welcomes[0]?.version;
    assert.equal(welcome?.case, "v1");
    if (welcome?.case !== "v1") return;
    assert.equal(hex(welcome.value.installationKey), traffic.bob.installationId);
    // Bob's key package carries an X-Wing key (0xFF03), so the official
    // client wraps to it rather than to the X25519 init key.
    assert.equal(welcome.value.wrapperAlgorithm, messageContents.WelcomeWrapperAlgorithm.XWING_MLKEM_768_DRAFT_6);
    assert.equal(welcome.value.hpkePublicKey.length, 1216, "an X-Wing public key");
    assert.ok(welcome.value.data.length > 1000);
    assert.ok(welcome.value.welcomeMetadata.length > 16, "sealed WelcomeMetadata: at least the AEAD tag");
  });
});
