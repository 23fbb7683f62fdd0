// Random and mutated requests to every RPC of a running node: each gets a
// gRPC status, never INTERNAL or UNKNOWN (a crash or an unhandled throw),
// invalid key packages and identity updates are never stored, and afterwards
// a normal client still works.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import Database from "better-sqlite3";
import fc from "fast-check";
import { health, identityApi, mlsApi } from "@parley/proto";
import { mlsSamples, officialRegistration, startTestNode, type MlsSamples } from "@parley/testkit";
import type { RunningNode } from "./node.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";

const GRPC_INTERNAL = 13;
const GRPC_UNKNOWN = 2;

interface Target {
  readonly path: string;
  readonly streaming: boolean;
  readonly valid: Uint8Array;
}

function request<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Uint8Array {
  return toBinary(schema, create(schema, init));
}

function targets(samples: MlsSamples): Target[] {
  const registration = officialRegistration();
  const mlsPath = (name: string) => `/xmtp.mls.api.v1.MlsApi/${name}`;
  const identityPath = (name: string) => `/xmtp.identity.api.v1.IdentityApi/${name}`;
  const keyPackage = { keyPackage: { keyPackageTlsSerialized: samples.keyPackage }, isInboxIdCredential: true };
  const group = { groupId: samples.groupId, pagingInfo: { direction: mlsApi.SortDirection.ASCENDING, limit: 5 } };
  const welcome = {
    version: {
      case: "v1" as const,
      value: { installationKey: randomBytes(32), data: randomBytes(64), hpkePublicKey: randomBytes(32) },
    },
  };
  const entry = { groupId: samples.groupId, serializedCommitLogEntry: randomBytes(32), signature: { bytes: randomBytes(64) } };
  return [
    { path: mlsPath("SendGroupMessages"), streaming: false, valid: request(mlsApi.SendGroupMessagesRequestSchema, { messages: samples.applicationMessages.map((data) => ({ version: { case: "v1" as const, value: { data } } })) }) },
    { path: mlsPath("SendWelcomeMessages"), streaming: false, valid: request(mlsApi.SendWelcomeMessagesRequestSchema, { messages: [welcome] }) },
    { path: mlsPath("RegisterInstallation"), streaming: false, valid: request(mlsApi.RegisterInstallationRequestSchema, keyPackage) },
    { path: mlsPath("UploadKeyPackage"), streaming: false, valid: request(mlsApi.UploadKeyPackageRequestSchema, keyPackage) },
    { path: mlsPath("FetchKeyPackages"), streaming: false, valid: request(mlsApi.FetchKeyPackagesRequestSchema, { installationKeys: [samples.installationKey] }) },
    { path: mlsPath("RevokeInstallation"), streaming: false, valid: request(mlsApi.RevokeInstallationRequestSchema, { installationKey: samples.installationKey }) },
    { path: mlsPath("GetIdentityUpdates"), streaming: false, valid: request(mlsApi.GetIdentityUpdatesRequestSchema, { accountAddresses: ["0x00"] }) },
    { path: mlsPath("QueryGroupMessages"), streaming: false, valid: request(mlsApi.QueryGroupMessagesRequestSchema, group) },
    { path: mlsPath("QueryWelcomeMessages"), streaming: false, valid: request(mlsApi.QueryWelcomeMessagesRequestSchema, { installationKey: samples.installationKey }) },
    { path: mlsPath("SubscribeGroupMessages"), streaming: true, valid: request(mlsApi.SubscribeGroupMessagesRequestSchema, { filters: [{ groupId: samples.groupId }] }) },
    { path: mlsPath("SubscribeWelcomeMessages"), streaming: true, valid: request(mlsApi.SubscribeWelcomeMessagesRequestSchema, { filters: [{ installationKey: samples.installationKey }] }) },
    { path: mlsPath("BatchPublishCommitLog"), streaming: false, valid: request(mlsApi.BatchPublishCommitLogRequestSchema, { requests: [entry] }) },
    { path: mlsPath("BatchQueryCommitLog"), streaming: false, valid: request(mlsApi.BatchQueryCommitLogRequestSchema, { requests: [{ groupId: samples.groupId }] }) },
    { path: mlsPath("GetNewestGroupMessage"), streaming: false, valid: request(mlsApi.GetNewestGroupMessageRequestSchema, { groupIds: [samples.groupId], includeContent: true }) },
    { path: identityPath("PublishIdentityUpdate"), streaming: false, valid: registration.request("PublishIdentityUpdate") },
    { path: identityPath("GetIdentityUpdates"), streaming: false, valid: registration.request("GetIdentityUpdates") },
    { path: identityPath("GetInboxIds"), streaming: false, valid: registration.request("GetInboxIds") },
    { path: identityPath("VerifySmartContractWalletSignatures"), streaming: false, valid: request(identityApi.VerifySmartContractWalletSignaturesRequestSchema, { signatures: [{ accountId: "eip155:1:0x00" }] }) },
  ];
}

/** Sends one gRPC call with a raw body; resolves to its status (0 for a stream still open). */
function call(session: http2.ClientHttp2Session, target: Target, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": target.path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status: number | undefined;
    const take = (headers: http2.IncomingHttpHeaders) => {
      const value = headers["grpc-status"];
      if (value !== undefined) status = Number(value);
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => undefined);
    stream.on("error", reject);
    stream.on("close", () => (status === undefined ? reject(new Error(`${target.path}: no grpc-status`)) : resolve(status)));
    if (target.streaming) {
      setTimeout(() => {
        if (status === undefined) status = 0; // an accepted subscription
        stream.close();
      }, 150).unref();
    }
    stream.end(frame);
  });
}

function mutate(bytes: Uint8Array, flips: readonly [number, number][], cut: number): Uint8Array {
  const mutated = bytes.slice(0, Math.max(0, bytes.length - (cut % 8)));
  for (const [at, value] of flips) if (mutated.length > 0) mutated[at % mutated.length] = value;
  return mutated;
}

describe("fuzzing every RPC of a running node", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-fuzz-"));
  const dbPath = join(dir, "node.db");
  let node: RunningNode;
  let session: http2.ClientHttp2Session;
  let samples: MlsSamples;
  let all: Target[];

  before(async () => {
    samples = await mlsSamples(2);
    all = targets(samples);
    node = await startTestNode({ store: new SqliteStore({ path: dbPath }) });
    session = http2.connect(node.url);
    // Stored first, so that a mutant which still validates is a replay.
    const identity = all.find((t) => t.path.endsWith("PublishIdentityUpdate"))!;
    assert.equal(await call(session, identity, identity.valid), 0);
    const upload = all.find((t) => t.path.endsWith("UploadKeyPackage"))!;
    assert.equal(await call(session, upload, upload.valid), 0);
  });

  after(async () => {
    session.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const acceptable = (status: number) => status !== GRPC_INTERNAL && status !== GRPC_UNKNOWN;

  it("answers a body that is not protobuf with INVALID_ARGUMENT", async () => {
    for (const target of all.filter((t) => !t.streaming)) {
      assert.equal(await call(session, target, new Uint8Array([0])), 3, target.path);
    }
  });

  it("answers random bytes with a status, never INTERNAL", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), fc.uint8Array({ maxLength: 1024 }), async (index, body) => {
        const target = all[index % all.length]!;
        const status = await call(session, target, body);
        assert.ok(acceptable(status), `${target.path} answered ${status}`);
      }),
      { numRuns: 600 },
    );
  });

  it("answers mutated valid requests with a status, never INTERNAL", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        async (index, flips, cut) => {
          const target = all[index % all.length]!;
          const status = await call(session, target, mutate(target.valid, flips, cut));
          assert.ok(acceptable(status), `${target.path} answered ${status}`);
        },
      ),
      { numRuns: 900 },
    );
  });

  it("stored no invalid key package or identity update", () => {
    const db = new Database(dbPath, { readonly: true });
    try {
      const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      assert.equal(count("identity_updates"), 1, "only the valid registration");
      assert.equal(count("key_packages"), 1, "only the valid installation");
    } finally {
      db.close();
    }
  });

  it("still serves a normal client", async () => {
    const transport = createGrpcTransport({ baseUrl: node.url });
    const status = await createClient(health.Health, transport).check({});
    assert.equal(status.status, health.HealthCheckResponse_ServingStatus.SERVING);
    const mls = createClient(mlsApi.MlsApi, transport);
    const fresh = await mlsSamples(1);
    await mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: fresh.applicationMessages[0]! } } }] });
    const page = await mls.queryGroupMessages({ groupId: fresh.groupId });
    assert.equal(page.messages.length, 1);
    const found = await mls.fetchKeyPackages({ installationKeys: [samples.installationKey] });
    assert.ok((found.keyPackages[0]?.keyPackageTlsSerialized.length ?? 0) > 0);
  });
});
