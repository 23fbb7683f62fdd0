// The node's one port speaks gRPC over cleartext HTTP/2, gRPC-web and Connect
// over HTTP/1.1; errors leave with the status their code maps to; gRPC server
// streams send their headers before their first message; limits apply per
// client; stop() ends open streams.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { health, mlsApi } from "@parley/proto";
import { testTls } from "@parley/testkit";
import { createLogger } from "./logger.js";
import { startNode, type RunningNode } from "./node.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Validators } from "./validation/validators.js";
import { codeOf } from "./grpc-code.test-util.js";

// These tests send nothing that needs validating.
const unusedValidators: Validators = {
  keyPackage: () => Promise.reject(new Error("not used here")),
  groupMessage: () => {
    throw new Error("not used here");
  },
  identityUpdate: () => Promise.reject(new Error("not used here")),
};

async function start(options: Partial<Parameters<typeof startNode>[0]> = {}): Promise<RunningNode> {
  return startNode({
    store: new SqliteStore({ path: ":memory:" }),
    validators: unusedValidators,
    logger: createLogger("silent"),
    port: 0,
    ...options,
  });
}


describe("the node's port", () => {
  let node: RunningNode;
  before(async () => {
    node = await start();
  });
  after(() => node.stop());

  const transports: [string, () => Transport][] = [
    ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: node.url })],
    ["gRPC-web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: node.url, httpVersion: "1.1" })],
    ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl: node.url, httpVersion: "1.1" })],
    ["Connect over HTTP/2", () => createConnectTransport({ baseUrl: node.url, httpVersion: "2" })],
  ];
  for (const [name, transport] of transports) {
    it(`answers ${name}`, async () => {
      const healthClient = createClient(health.Health, transport());
      const status = await healthClient.check({ service: "xmtp.mls.api.v1.MlsApi" });
      assert.equal(status.status, health.HealthCheckResponse_ServingStatus.SERVING);
      const mls = createClient(mlsApi.MlsApi, transport());
      const page = await mls.queryGroupMessages({ groupId: new Uint8Array([1, 2, 3]) });
      assert.deepEqual(page.messages, []);
      assert.equal(page.pagingInfo?.direction, mlsApi.SortDirection.DESCENDING);
      assert.equal(page.pagingInfo?.limit, 100);
    });
  }

  it("maps errors to gRPC status codes", async () => {
    const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
    assert.equal(await codeOf(mls.queryGroupMessages({ groupId: new Uint8Array() })), Code.InvalidArgument);
    assert.equal(await codeOf(mls.sendGroupMessages({ messages: [] })), Code.InvalidArgument);
    assert.equal(await codeOf(mls.revokeInstallation({})), Code.Unimplemented);
    assert.equal(await codeOf(mls.getIdentityUpdates({})), Code.Unimplemented);
    const healthClient = createClient(health.Health, createGrpcTransport({ baseUrl: node.url }));
    assert.equal(await codeOf(healthClient.check({ service: "nope" })), Code.NotFound);
  });

  it("answers a body that is not protobuf with INVALID_ARGUMENT in every protocol", async () => {
    const path = `${node.url}/xmtp.mls.api.v1.MlsApi/QueryGroupMessages`;
    const notProtobuf = new Uint8Array([0]);
    const framed = new Uint8Array([0, 0, 0, 0, 1, 0]);

    const connectUnary = await fetch(path, { method: "POST", headers: { "content-type": "application/proto" }, body: notProtobuf });
    assert.equal(connectUnary.status, 400);
    assert.equal(((await connectUnary.json()) as { code: string }).code, "invalid_argument");

    const grpcWeb = await fetch(path, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: framed });
    const trailer = new TextDecoder().decode(new Uint8Array(await grpcWeb.arrayBuffer()).subarray(5));
    assert.match(trailer, /grpc-status: ?3\b/);

    const streamPath = `${node.url}/xmtp.mls.api.v1.MlsApi/SubscribeGroupMessages`;
    const connectStream = await fetch(streamPath, { method: "POST", headers: { "content-type": "application/connect+proto" }, body: framed });
    const endStream = JSON.parse(new TextDecoder().decode(new Uint8Array(await connectStream.arrayBuffer()).subarray(5))) as {
      error?: { code: string };
    };
    assert.equal(endStream.error?.code, "invalid_argument");
  });

  it("answers a request whose Host or :authority is not a valid host, and stays up", async () => {
    const { port } = new URL(node.url);
    // HTTP/1.1 with a Host that no URL parser takes.
    const socket = net.connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    const body = '{"service":""}';
    socket.write(
      `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: not a host\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const [reply] = (await once(socket, "data")) as [Buffer];
    assert.match(reply.toString("latin1"), /^HTTP\/1\.1 200/);
    socket.destroy();
    // HTTP/2 with an IPv6 :authority without brackets (what Node's own client sends to [::1]).
    const session = http2.connect(node.url);
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      ":authority": "::1:5556",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
    const [headers] = (await once(stream, "response")) as [http2.IncomingHttpHeaders];
    assert.equal(headers[":status"], 200);
    stream.resume();
    await once(stream, "close");
    session.close();
    const check = createClient(health.Health, createGrpcTransport({ baseUrl: node.url }));
    assert.equal((await check.check({})).status, health.HealthCheckResponse_ServingStatus.SERVING, "still up");
  });

  it("sends a gRPC stream's headers before its first message", async () => {
    const session = http2.connect(node.url);
    try {
      const body = toBinary(
        mlsApi.SubscribeWelcomeMessagesRequestSchema,
        create(mlsApi.SubscribeWelcomeMessagesRequestSchema, { filters: [{ installationKey: new Uint8Array(32) }] }),
      );
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const stream = session.request({
        ":method": "POST",
        ":path": "/xmtp.mls.api.v1.MlsApi/SubscribeWelcomeMessages",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.end(frame);
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        stream.once("response", resolve);
        setTimeout(() => reject(new Error("no headers within 2 s")), 2000).unref();
      });
      assert.equal(headers[":status"], 200);
      assert.equal(headers["content-type"], "application/grpc");
      stream.close();
    } finally {
      session.close();
    }
  });

  it("streams large, compressible messages to a client that accepts gzip", async () => {
    // Regression: a compressed frame behind headers sent early, with no
    // grpc-encoding announced, was unreadable.
    const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
    const installationKey = new Uint8Array(32).fill(5);
    const data = new Uint8Array(64 * 1024).fill(1);
    await mls.sendWelcomeMessages({
      messages: [{ version: { case: "v1", value: { installationKey, data, hpkePublicKey: new Uint8Array(32) } } }],
    });
    for await (const welcome of mls.subscribeWelcomeMessages({ filters: [{ installationKey }] })) {
      assert.deepEqual(new Uint8Array(welcome.version.value?.installationKey ?? []), installationKey);
      assert.equal(welcome.version.case === "v1" && welcome.version.value.data.length, data.length);
      break;
    }
  });

  it("still sends a stream's error status after early headers", async () => {
    const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
    const stream = mls.subscribeWelcomeMessages({ filters: [{ installationKey: new Uint8Array() }] });
    assert.equal(await codeOf((async () => {
      for await (const _ of stream) break;
    })()), Code.InvalidArgument);
  });
});

describe("rate limits", () => {
  it("refuse a client past its budget with RESOURCE_EXHAUSTED", async () => {
    const node = await start({
      rateLimits: { publish: { capacity: 1, refillPerMinute: 0 }, default: { capacity: 3, refillPerMinute: 0 } },
    });
    try {
      const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
      for (let i = 0; i < 3; i++) await mls.queryWelcomeMessages({ installationKey: new Uint8Array([i + 1]) });
      assert.equal(await codeOf(mls.queryWelcomeMessages({ installationKey: new Uint8Array([9]) })), Code.ResourceExhausted);
    } finally {
      await node.stop();
    }
  });
});

describe("stop", () => {
  it("ends open streams and refuses new connections", async () => {
    const node = await start();
    const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
    const stream = mls.subscribeGroupMessages({ filters: [{ groupId: new Uint8Array([7]) }] });
    const ended = (async () => {
      let count = 0;
      for await (const _ of stream) count++;
      return count;
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await node.stop();
    assert.equal(await ended, 0, "the stream ended cleanly");
    const fresh = createClient(health.Health, createGrpcTransport({ baseUrl: node.url }));
    assert.equal(await codeOf(fresh.check({})), Code.Unavailable);
  });

  it("closes idle HTTP/1.1 keep-alive connections and silent ones at once, instead of waiting out their timeout", async () => {
    const node = await start();
    const { port } = new URL(node.url);
    // A keep-alive connection left idle after one request, and one that never sends a byte.
    const idle = net.connect(Number(port), "127.0.0.1");
    const silent = net.connect(Number(port), "127.0.0.1");
    await Promise.all([once(idle, "connect"), once(silent, "connect")]);
    const body = '{"service":""}';
    idle.write(
      `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await once(idle, "data");
    const closed = Promise.all([once(idle, "close"), once(silent, "close")]);
    // Node's keep-alive timeout is 5 s; the stop must not wait for it.
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("stop waited for idle connections")), 2_000).unref());
    await Promise.race([Promise.all([node.stop(), closed]), timeout]);
  });
});

describe("TLS", () => {
  it("serves gRPC over HTTP/2 and Connect over HTTP/1.1 with a certificate", async () => {
    const tls = testTls();
    const node = await start({ tls });
    try {
      assert.ok(node.url.startsWith("https://"));
      const nodeOptions = { ca: tls.cert };
      for (const transport of [
        createGrpcTransport({ baseUrl: node.url, nodeOptions }),
        createConnectTransport({ baseUrl: node.url, httpVersion: "1.1", nodeOptions }),
      ]) {
        const status = await createClient(health.Health, transport).check({});
        assert.equal(status.status, health.HealthCheckResponse_ServingStatus.SERVING);
      }
      const untrusted = createClient(health.Health, createGrpcTransport({ baseUrl: node.url }));
      assert.notEqual(await codeOf(untrusted.check({})), undefined, "a client that doesn't trust the certificate can't connect");
    } finally {
      await node.stop();
    }
  });
});
