// Fields a client adds beyond the schema are dropped before anything is
// stored, so they are never served to others, while the bytes the node
// relays as they came (MLS messages, welcomes, key packages, commit log
// entries) and an identity update's own fields are served back exactly. On a
// node in this process with the real validators.
import assert from "node:assert/strict";
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createClient, type Client } from "@connectrpc/connect";
import { associations, decode, encode, identityApi, mlsApi } from "@parley/proto";
import { createInProcessTestNode, mlsSamples, officialRegistration, type InProcessTestNode, type MlsSamples } from "@parley/testkit";

const randomBytes = (length: number) => new Uint8Array(nodeRandomBytes(length));
const MARKER = "added beyond the schema";

/** `message` with a field the schema does not know, as a sender can add to any message. */
function withUnknownField<D extends DescMessage>(schema: D, message: MessageShape<D>): MessageShape<D> {
  const extra = new BinaryWriter().tag(4242, WireType.LengthDelimited).string(MARKER).finish();
  const tainted = decode(schema, new Uint8Array(Buffer.concat([encode(schema, message), extra])));
  assert.equal(tainted.$unknown?.length, 1);
  return tainted;
}

/** True when the marker is anywhere in the bytes. */
const carriesMarker = (bytes: Uint8Array) => Buffer.from(bytes).includes(MARKER);

describe("unknown protobuf fields", () => {
  let node: InProcessTestNode;
  let mls: Client<typeof mlsApi.MlsApi>;
  let identity: Client<typeof identityApi.IdentityApi>;
  let samples: MlsSamples;

  before(async () => {
    samples = await mlsSamples(1);
    node = createInProcessTestNode();
    mls = createClient(mlsApi.MlsApi, node.transport);
    identity = createClient(identityApi.IdentityApi, node.transport);
  });
  after(() => node.stop());

  it("are not stored or served back in an identity update, whose own fields come back exactly", async () => {
    const registration = officialRegistration();
    const captured = decode(identityApi.PublishIdentityUpdateRequestSchema, registration.request("PublishIdentityUpdate"));
    const update = captured.identityUpdate;
    assert.ok(update);
    const original = encode(associations.IdentityUpdateSchema, update);
    // At the top of the update and inside its first action.
    const tainted = withUnknownField(associations.IdentityUpdateSchema, update);
    const [action, ...rest] = tainted.actions;
    assert.ok(action);
    tainted.actions = [withUnknownField(associations.IdentityActionSchema, action), ...rest];
    await identity.publishIdentityUpdate(withUnknownField(identityApi.PublishIdentityUpdateRequestSchema, { ...captured, identityUpdate: tainted }));

    const stored = await node.store.identityUpdates(registration.inboxId, 0n);
    assert.equal(stored.length, 1);
    assert.ok(!carriesMarker(stored[0]?.update ?? new Uint8Array()), "nothing beyond the schema is stored");
    const answer = await identity.getIdentityUpdates({ requests: [{ inboxId: registration.inboxId }] });
    const served = answer.responses[0]?.updates[0]?.update;
    assert.ok(served);
    assert.equal(served.$unknown, undefined);
    assert.equal(served.actions[0]?.$unknown, undefined);
    assert.deepEqual(encode(associations.IdentityUpdateSchema, served), original, "the update as its client signed it");
  });

  it("leave the relayed bytes of group messages, welcomes, key packages and commit log entries untouched", async () => {
    const data = samples.applicationMessages[0];
    assert.ok(data);
    const message = withUnknownField(mlsApi.GroupMessageInput_V1Schema, { $typeName: "xmtp.mls.api.v1.GroupMessageInput.V1", data, senderHmac: randomBytes(32), shouldPush: true });
    await mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: message } }] });
    const page = await mls.queryGroupMessages({ groupId: samples.groupId });
    const served = page.messages[0]?.version.value;
    assert.deepEqual(served?.data, data);
    assert.deepEqual(served?.senderHmac, message.senderHmac);

    const installationKey = randomBytes(32);
    const welcome = withUnknownField(mlsApi.WelcomeMessageInput_V1Schema, {
      $typeName: "xmtp.mls.api.v1.WelcomeMessageInput.V1",
      installationKey,
      data: randomBytes(300),
      hpkePublicKey: randomBytes(32),
      wrapperAlgorithm: 0,
      welcomeMetadata: randomBytes(40),
    });
    await mls.sendWelcomeMessages({ messages: [{ version: { case: "v1", value: welcome } }] });
    const welcomes = await mls.queryWelcomeMessages({ installationKey });
    const servedWelcome = welcomes.messages[0]?.version;
    assert.equal(servedWelcome?.case, "v1");
    assert.deepEqual(servedWelcome.value.data, welcome.data);
    assert.deepEqual(servedWelcome.value.welcomeMetadata, welcome.welcomeMetadata);

    const upload = withUnknownField(mlsApi.KeyPackageUploadSchema, { $typeName: "xmtp.mls.api.v1.KeyPackageUpload", keyPackageTlsSerialized: samples.keyPackage });
    await mls.uploadKeyPackage({ keyPackage: upload });
    const fetched = await mls.fetchKeyPackages({ installationKeys: [samples.installationKey] });
    assert.deepEqual(fetched.keyPackages[0]?.keyPackageTlsSerialized, samples.keyPackage);

    const signature = withUnknownField(associations.RecoverableEd25519SignatureSchema, {
      $typeName: "xmtp.identity.associations.RecoverableEd25519Signature",
      bytes: randomBytes(64),
      publicKey: randomBytes(32),
    });
    const entry = { groupId: samples.groupId, serializedCommitLogEntry: randomBytes(80), signature };
    await mls.batchPublishCommitLog({ requests: [entry] });
    const log = await mls.batchQueryCommitLog({ requests: [{ groupId: samples.groupId }] });
    const servedEntry = log.responses[0]?.commitLogEntries[0];
    assert.deepEqual(servedEntry?.serializedCommitLogEntry, entry.serializedCommitLogEntry);
    assert.deepEqual(servedEntry?.signature?.bytes, signature.bytes);
    assert.equal(servedEntry?.signature?.$unknown, undefined, "the signature is served as the schema has it");
  });
});
