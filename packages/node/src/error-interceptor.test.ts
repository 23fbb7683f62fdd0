// Every refused request is logged with the stable code of the library that
// refused it (not only the gRPC status the caller sees, which is
// INVALID_ARGUMENT for all of them), the RPC and the status, at debug, and
// with nothing of the request in it.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, beforeEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { associations, decode, identityApi, mlsApi } from "@parley/proto";
import { mlsSamples, officialRegistration, startTestNode, type MlsSamples } from "@parley/testkit";
import { codeOf } from "./grpc-code.test-util.js";
import { createLogger, type DestinationStream, type LogLevel } from "./index.js";
import type { RunningNode } from "./index.js";

type Entry = Record<string, unknown>;

function capture(level: LogLevel): { entries: Entry[]; logger: ReturnType<typeof createLogger> } {
  const entries: Entry[] = [];
  const destination: DestinationStream = { write: (line: string) => void entries.push(JSON.parse(line) as Entry) };
  return { entries, logger: createLogger(level, destination) };
}

const MLS = "xmtp.mls.api.v1.MlsApi";
const IDENTITY = "xmtp.identity.api.v1.IdentityApi";
/** What a refusal entry may hold: pino's own fields and ours, no request field. */
const REFUSAL_FIELDS = ["code", "codes", "hostname", "level", "method", "msg", "pid", "reason", "service", "status", "time"];

describe("refusals in the node's log", () => {
  let node: RunningNode;
  let log: ReturnType<typeof capture>;
  let mls: Client<typeof mlsApi.MlsApi>;
  let identity: Client<typeof identityApi.IdentityApi>;
  let samples: MlsSamples;

  before(async () => {
    samples = await mlsSamples(1);
    log = capture("debug");
    node = await startTestNode({ logger: log.logger });
    const transport = createGrpcTransport({ baseUrl: node.url });
    mls = createClient(mlsApi.MlsApi, transport);
    identity = createClient(identityApi.IdentityApi, transport);
  });
  after(() => node.stop());
  beforeEach(() => {
    log.entries.length = 0;
  });

  /** The one refusal logged since the test began, checked for its shape. */
  function refusal(): Entry {
    const refused = log.entries.filter((e) => e["msg"] === "request refused");
    assert.equal(refused.length, 1, JSON.stringify(log.entries));
    const entry = refused[0] ?? {};
    assert.equal(entry["level"], 20, "debug");
    assert.equal(entry["status"], "InvalidArgument");
    assert.deepEqual(Object.keys(entry).sort(), REFUSAL_FIELDS.filter((f) => f in entry));
    return entry;
  }

  it("a malformed key package: mls.malformed; a tampered one: mls.bad_signature", async () => {
    const garbage = new Uint8Array(300).fill(0xab);
    assert.equal(await codeOf(mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: garbage } })), Code.InvalidArgument);
    const malformed = refusal();
    assert.equal(malformed["method"], `${MLS}/UploadKeyPackage`);
    assert.equal(malformed["code"], "mls.malformed");
    assert.deepEqual(malformed["codes"], ["node.invalid_argument", "mls.malformed"]);
    assert.ok(!JSON.stringify(malformed).includes("abab"), "no payload bytes");

    log.entries.length = 0;
    const tampered = samples.keyPackage.slice();
    tampered[tampered.length - 1]! ^= 1;
    assert.equal(await codeOf(mls.registerInstallation({ keyPackage: { keyPackageTlsSerialized: tampered } })), Code.InvalidArgument);
    const entry = refusal();
    assert.equal(entry["method"], `${MLS}/RegisterInstallation`);
    assert.equal(entry["code"], "mls.bad_signature");
  });

  it("an identity update whose signature no longer matches: identity.bad_signature", async () => {
    const request = decode(identityApi.PublishIdentityUpdateRequestSchema, officialRegistration().request("PublishIdentityUpdate"));
    assert.ok(request.identityUpdate);
    // The wallet signed a text that holds the time; another time, another text.
    request.identityUpdate.clientTimestampNs += 1_000_000_000n;
    assert.equal(await codeOf(identity.publishIdentityUpdate(request)), Code.InvalidArgument);
    const entry = refusal();
    assert.equal(entry["method"], `${IDENTITY}/PublishIdentityUpdate`);
    assert.equal(entry["code"], "identity.bad_signature");
    assert.deepEqual(entry["codes"], ["node.invalid_argument", "identity.bad_signature"]);
  });

  it("a malformed group message: mls.malformed; a key package sent as one: mls.unexpected_wire_format", async () => {
    const send = (data: Uint8Array) => mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data } } }] });
    assert.equal(await codeOf(send(samples.applicationMessages[0]!.subarray(0, 40))), Code.InvalidArgument);
    const malformed = refusal();
    assert.equal(malformed["method"], `${MLS}/SendGroupMessages`);
    assert.equal(malformed["code"], "mls.malformed");

    log.entries.length = 0;
    // MLSMessage{version mls10, wire_format mls_key_package} (RFC 9420 section 6).
    const keyPackageMessage = new Uint8Array([0, 1, 0, 5, ...samples.keyPackage]);
    assert.equal(await codeOf(send(keyPackageMessage)), Code.InvalidArgument);
    assert.equal(refusal()["code"], "mls.unexpected_wire_format");
  });

  it("a refusal the node decides itself: its own code", async () => {
    assert.equal(await codeOf(mls.uploadKeyPackage({})), Code.InvalidArgument);
    const entry = refusal();
    assert.equal(entry["code"], "node.invalid_argument");
    assert.deepEqual(entry["codes"], ["node.invalid_argument"]);
    assert.equal(entry["reason"], "no key package");
  });

  it("an identity update for an inbox id that is not one: the node's own check of the shared id", async () => {
    const update = create(associations.IdentityUpdateSchema, { inboxId: "AB".repeat(32), clientTimestampNs: 1n });
    assert.equal(await codeOf(identity.publishIdentityUpdate({ identityUpdate: update })), Code.InvalidArgument);
    assert.equal(refusal()["code"], "node.invalid_argument");
  });

  it("a body that is not protobuf, refused before any handler: proto.malformed", async () => {
    const status = await rawGrpcCall(node.url, `/${MLS}/UploadKeyPackage`, new Uint8Array([0x0a, 0x0a, 0x01]));
    assert.equal(status, Code.InvalidArgument);
    const entry = refusal();
    assert.equal(entry["method"], `${MLS}/UploadKeyPackage`);
    assert.equal(entry["code"], "proto.malformed");
  });
});

describe("refusals before decoding", () => {
  it("a call refused by the rate limit before its body is read, and one cut off as it arrives: node.rate_limited", async () => {
    const log = capture("debug");
    const node = await startTestNode({
      logger: log.logger,
      rateLimits: { publish: { capacity: 2, refillPerMinute: 0 }, default: { capacity: 1, refillPerMinute: 0 } },
    });
    try {
      const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
      await mls.queryGroupMessages({ groupId: new Uint8Array([1]) });
      assert.equal(await codeOf(mls.queryGroupMessages({ groupId: new Uint8Array([2]) })), Code.ResourceExhausted);
      // Two tokens pay for 32 KiB; 64 KiB does not arrive whole.
      const large = { version: { case: "v1" as const, value: { data: new Uint8Array(64 * 1024).fill(0xcd) } } };
      assert.equal(await codeOf(mls.sendGroupMessages({ messages: [large] })), Code.ResourceExhausted);
      const refused = log.entries.filter((e) => e["msg"] === "request refused");
      assert.deepEqual(
        refused.map((e) => [e["method"], e["status"], e["code"], e["level"]]),
        [
          [`${MLS}/QueryGroupMessages`, "ResourceExhausted", "node.rate_limited", 20],
          [`${MLS}/SendGroupMessages`, "ResourceExhausted", "node.rate_limited", 20],
        ],
      );
      for (const entry of refused) assert.deepEqual(Object.keys(entry).sort(), REFUSAL_FIELDS.filter((f) => f in entry));
      assert.ok(!JSON.stringify(refused).includes("cdcd"), "no payload bytes");
    } finally {
      await node.stop();
    }
  });
});

describe("refusals at the default level", () => {
  it("are not logged: anyone can send garbage, and it must not fill the log", async () => {
    const log = capture("info");
    const node = await startTestNode({ logger: log.logger });
    try {
      const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
      assert.equal(await codeOf(mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: new Uint8Array(10) } })), Code.InvalidArgument);
      assert.deepEqual(log.entries.filter((e) => e["msg"] === "request refused"), []);
      assert.ok(log.entries.some((e) => e["msg"] === "node listening"), "the logger does write at info");
    } finally {
      await node.stop();
    }
  });
});

/** One unary gRPC call with a raw body; resolves to its grpc-status. */
function rawGrpcCall(url: string, path: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let status: number | undefined;
    const read = (headers: http2.IncomingHttpHeaders) => {
      const value = headers["grpc-status"];
      if (value !== undefined) status = Number(value);
    };
    stream.on("response", read);
    stream.on("trailers", read);
    stream.on("data", () => undefined);
    stream.on("end", () => {
      session.close();
      if (status === undefined) reject(new Error("no grpc-status"));
      else resolve(status);
    });
    stream.on("error", reject);
    stream.end(frame);
  });
}
