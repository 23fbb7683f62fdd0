// Streams opened and given up at once (HTTP/2 rapid reset), over real
// HTTP/2: a connection past the allowance is closed and its address waits
// out a cooldown before it may connect again, while a normal client at
// another address is served throughout. The node listens on `::`: the
// attacker is 127.0.0.1, the normal client ::1.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { health, mlsApi } from "@parley/proto";
import { privateMessageOfSize, startTestNode } from "@parley/testkit";
import { codeOf } from "../grpc-code.test-util.js";
import type { RunningNode } from "../node.js";

const SUBSCRIBE = "/xmtp.mls.api.v1.MlsApi/SubscribeGroupMessages";
const QUERY = "/xmtp.mls.api.v1.MlsApi/QueryGroupMessages";

function queryFrame(groupId: Uint8Array): Buffer {
  const payload = toBinary(mlsApi.QueryGroupMessagesRequestSchema, create(mlsApi.QueryGroupMessagesRequestSchema, { groupId }));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}
const COOLDOWN_MS = 1500;

function subscribeFrame(): Buffer {
  const payload = toBinary(
    mlsApi.SubscribeGroupMessagesRequestSchema,
    create(mlsApi.SubscribeGroupMessagesRequestSchema, { filters: [{ groupId: new Uint8Array(16).fill(7) }] }),
  );
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

describe("streams given up at once", { timeout: 60_000 }, () => {
  let node: RunningNode;
  before(async () => {
    node = await startTestNode({ host: "::", connectionLimits: { maxAbandonedStreams: 10, windowMs: 10_000, cooldownMs: COOLDOWN_MS } });
  });
  after(() => node.stop());

  const healthAt = (host: string) => createClient(health.Health, createGrpcTransport({ baseUrl: `http://${host}:${node.port}` })).check({});

  it("close a connection past the allowance, keep its address out for the cooldown, and leave others served", async () => {
    const attacker = http2.connect(`http://127.0.0.1:${node.port}`);
    attacker.on("error", () => undefined);
    const closed = once(attacker, "close");
    for (let i = 0; i < 30 && !attacker.destroyed; i += 1) {
      const stream = attacker.request({ ":method": "POST", ":path": SUBSCRIBE, "content-type": "application/grpc", te: "trailers" });
      stream.on("error", () => undefined);
      stream.write(subscribeFrame());
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await sleep(10);
    }
    await closed;
    assert.notEqual(await codeOf(healthAt("127.0.0.1")), undefined, "its address may not connect during the cooldown");
    assert.equal((await healthAt("[::1]")).status, health.HealthCheckResponse_ServingStatus.SERVING, "another address is served");
    await sleep(COOLDOWN_MS + 200);
    assert.equal((await healthAt("127.0.0.1")).status, health.HealthCheckResponse_ServingStatus.SERVING, "after the cooldown it may again");
  });

  it("count streams opened and reset in one write, which the node sees only once they are closed", async () => {
    const attacker = http2.connect(`http://127.0.0.1:${node.port}`);
    attacker.on("error", () => undefined);
    await once(attacker, "connect");
    const closed = once(attacker, "close");
    // Opened and reset in one turn: nghttp2 sends every HEADERS and RST_STREAM in one write, and the node
    // reads them at once. 200 stays under nghttp2's own limit of 1,000 resets a connection.
    for (let i = 0; i < 200; i += 1) {
      const stream = attacker.request({ ":method": "POST", ":path": SUBSCRIBE, "content-type": "application/grpc", te: "trailers" });
      stream.on("error", () => undefined);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    const outcome = await Promise.race([closed.then(() => "closed"), sleep(3000).then(() => "still open")]);
    attacker.destroy();
    assert.equal(outcome, "closed", "the node closed the connection");
    assert.notEqual(await codeOf(healthAt("127.0.0.1")), undefined, "for too many streams given up: its address waits out the cooldown");
    await sleep(COOLDOWN_MS + 200);
  });

  it("a call reset with NO_ERROR before the node sent anything does not bring the node down", async () => {
    // A query that waits for memory: one stalled answer holds the node's whole share.
    const small = await startTestNode({ host: "::", memoryInFlight: { maxBytes: 1, maxBytesPerAddress: 1, smallBytes: 1 } });
    try {
      const topic = new Uint8Array(16).fill(9);
      const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://[::1]:${small.port}` }));
      await mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessageOfSize(topic, 1024), senderHmac: new Uint8Array(32), shouldPush: true } } }] });
      const query = (session: http2.ClientHttp2Session) => {
        const stream = session.request({ ":method": "POST", ":path": QUERY, "content-type": "application/grpc", te: "trailers" });
        stream.on("error", () => undefined);
        stream.end(queryFrame(topic));
        return stream;
      };
      const holder = http2.connect(`http://127.0.0.1:${small.port}`, { settings: { initialWindowSize: 0 } });
      holder.on("error", () => undefined);
      query(holder);
      await sleep(200);
      // A second query waits for the first; its client resets it with NO_ERROR, which no answered stream ends with.
      const attacker = http2.connect(`http://127.0.0.1:${small.port}`);
      attacker.on("error", () => undefined);
      const waiting = query(attacker);
      await sleep(200);
      waiting.close(http2.constants.NGHTTP2_NO_ERROR);
      await sleep(200);
      attacker.destroy();
      holder.destroy();
      assert.equal((await mls.queryGroupMessages({ groupId: topic })).messages.length, 1, "the node still answers");
    } finally {
      await small.stop();
    }
  });
});
