// The node's memory for answers in flight, over real HTTP/2: an attacker
// asks for large pages and never reads them (its receive window shut), so
// each answer would sit in the node's memory for as long as the stream
// lives. Past its address's share it is refused at once; the node's share
// makes a normal client wait for room, never refuses it; and what a dead
// stream held goes back. The node listens on `::`: the attacker is
// 127.0.0.1, the normal client ::1.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mlsApi } from "@parley/proto";
import { mlsSamples, privateMessageOfSize, startTestNode } from "@parley/testkit";
import type { RunningNode } from "../node.js";
import { FOOTPRINT, GARBAGE_WAIT_MS, MemoryInFlight } from "./memory-in-flight.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const QUERY = "/xmtp.mls.api.v1.MlsApi/QueryGroupMessages";
const SEND = "/xmtp.mls.api.v1.MlsApi/SendGroupMessages";
const FETCH_KEY_PACKAGES = "/xmtp.mls.api.v1.MlsApi/FetchKeyPackages";

function sendPayload(groupId: Uint8Array, bytes: number): Uint8Array {
  const data = privateMessageOfSize(groupId, bytes);
  return toBinary(
    mlsApi.SendGroupMessagesRequestSchema,
    create(mlsApi.SendGroupMessagesRequestSchema, { messages: [{ version: { case: "v1", value: { data, senderHmac: new Uint8Array(32), shouldPush: true } } }] }),
  );
}

/** A gRPC frame of `payload`, gzipped when `gzip`. */
function frameOf(payload: Uint8Array, gzip: boolean): Buffer {
  const body = gzip ? gzipSync(payload) : Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt8(gzip ? 1 : 0, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** A send's grpc-status; with `hold`, the body is left unfinished and the stream open (the promise then settles only on a refusal). */
function send(session: http2.ClientHttp2Session, frame: Buffer, options: { gzip: boolean; hold?: boolean }): { status: Promise<number>; stream: http2.ClientHttp2Stream } {
  const stream = session.request({
    ":method": "POST",
    ":path": SEND,
    "content-type": "application/grpc",
    te: "trailers",
    ...(options.gzip ? { "grpc-encoding": "gzip" } : {}),
  });
  stream.on("error", () => undefined);
  const status = new Promise<number>((resolve) => {
    const take = (headers: http2.IncomingHttpHeaders | undefined) => {
      const value = headers?.["grpc-status"];
      if (value !== undefined) resolve(Number(value));
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.resume();
  });
  if (options.hold) stream.write(frame.subarray(0, 100));
  else stream.end(frame);
  return { status, stream };
}

function queryFrame(groupId: Uint8Array): Buffer {
  const payload = toBinary(mlsApi.QueryGroupMessagesRequestSchema, create(mlsApi.QueryGroupMessagesRequestSchema, { groupId }));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** A query whose answer is never read: resolves with its grpc-status if one comes (a refusal), else "stalled". */
function stalledQuery(session: http2.ClientHttp2Session, groupId: Uint8Array): Promise<number | "stalled"> {
  return stalledCall(session, QUERY, queryFrame(groupId));
}

/** A call whose answer is never read: resolves with its grpc-status if one comes (a refusal), else "stalled". */
function stalledCall(session: http2.ClientHttp2Session, path: string, frame: Buffer): Promise<number | "stalled"> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    stream.on("error", () => undefined);
    // A stream destroyed with its session may emit its events without headers.
    const take = (headers: http2.IncomingHttpHeaders | undefined) => {
      const status = headers?.["grpc-status"];
      if (status !== undefined) resolve(Number(status));
    };
    // A refusal is a trailers-only answer, or trailers after the node's early headers: neither waits on the window.
    stream.on("response", take);
    stream.on("trailers", take);
    stream.end(frame);
    // An answer past the shut window never gets its trailers; the stall is the answer.
    setTimeout(() => resolve("stalled"), 1500);
  });
}

describe("memory for answers in flight", { timeout: 60_000 }, () => {
  let node: RunningNode;
  const groupId = randomBytes(16);

  before(async () => {
    node = await startTestNode({
      host: "::",
      requestLimits: { maxAnswerBytes: 1024 * KIB },
      // Room for three answers of 900 KiB in the node, two per address (each counted at its footprint).
      memoryInFlight: { maxBytes: 2800 * KIB * FOOTPRINT.answer, maxBytesPerAddress: 2 * 1024 * KIB * FOOTPRINT.answer, smallBytes: 64 * KIB },
    });
    const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://[::1]:${node.port}` }));
    for (let i = 0; i < 4; i += 1) {
      await mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessageOfSize(groupId, 900 * KIB), senderHmac: randomBytes(32), shouldPush: true } } }] });
    }
  });
  after(() => node.stop());

  it("refuses a stalled reader past its share, makes a normal client wait for room, and takes back what a dead stream held", async () => {
    // The attacker's receive window is shut: the node can send headers, never a byte of an answer.
    const attacker = http2.connect(`http://127.0.0.1:${node.port}`, { settings: { initialWindowSize: 1024 } });
    attacker.on("error", () => undefined);
    const first = await Promise.all([stalledQuery(attacker, groupId), stalledQuery(attacker, groupId)]);
    assert.deepEqual(first, ["stalled", "stalled"], "two pages of 900 KiB fit the address's share of 2 MiB");
    assert.equal(await stalledQuery(attacker, groupId), 8, "a third is RESOURCE_EXHAUSTED at once");

    // 1.8 MiB held by the attacker, 2.8 MiB in all: one normal page fits, the second waits for the first.
    const normal = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://[::1]:${node.port}` }));
    const pages = await Promise.all([normal.queryGroupMessages({ groupId }), normal.queryGroupMessages({ groupId })]);
    assert.deepEqual(
      pages.map((p) => p.messages.length),
      [1, 1],
      "both answered",
    );

    // The attacker goes away: what its streams held goes back, and its address may ask again.
    attacker.destroy();
    let answers: (number | "stalled")[] = [8];
    for (let attempt = 0; attempt < 20 && !answers.every((a) => a === "stalled"); attempt += 1) {
      await sleep(100);
      // A fresh session each time: the streams of a failed attempt go with it.
      const again = http2.connect(`http://127.0.0.1:${node.port}`, { settings: { initialWindowSize: 1024 } });
      again.on("error", () => undefined);
      answers = await Promise.all([stalledQuery(again, groupId), stalledQuery(again, groupId)]);
      again.destroy();
    }
    assert.deepEqual(answers, ["stalled", "stalled"], "the dead session's reservations were given back");
  });

  it("counts every large answer, not only pages: one key package asked for a thousand times, unread, holds the address's share", async () => {
    const samples = await mlsSamples(1);
    const repeats = 1000;
    const answerBytes = repeats * samples.keyPackage.length;
    const keys = await startTestNode({
      // One such answer at its footprint fits an address's share, two do not.
      memoryInFlight: { maxBytes: 4 * answerBytes * FOOTPRINT.answer, maxBytesPerAddress: 1.5 * answerBytes * FOOTPRINT.answer, smallBytes: 64 * KIB },
    });
    try {
      const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://127.0.0.1:${keys.port}` }));
      await mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: samples.keyPackage }, isInboxIdCredential: true });
      const payload = toBinary(
        mlsApi.FetchKeyPackagesRequestSchema,
        create(mlsApi.FetchKeyPackagesRequestSchema, { installationKeys: Array.from({ length: repeats }, () => samples.installationKey) }),
      );
      const frame = frameOf(payload, false);
      const attacker = http2.connect(`http://127.0.0.1:${keys.port}`, { settings: { initialWindowSize: 1024 } });
      attacker.on("error", () => undefined);
      assert.equal(await stalledCall(attacker, FETCH_KEY_PACKAGES, frame), "stalled");
      assert.equal(await stalledCall(attacker, FETCH_KEY_PACKAGES, frame), 8, "a second is RESOURCE_EXHAUSTED at once");
      attacker.destroy();
      assert.equal((await mls.fetchKeyPackages({ installationKeys: [samples.installationKey] })).keyPackages.length, 1, "a small answer is never held up");
    } finally {
      await keys.stop();
    }
  });

  it("holds a compressed request's inflated size for it: past its address's share another is refused before its body is read", async () => {
    const small = await startTestNode({
      host: "::",
      // A send may be 2 x 256 KiB + 1 MiB = 1.5 MiB inflated.
      requestLimits: { maxPayloadBytes: 256 * KIB },
      memoryInFlight: { maxBytes: 4 * 1024 * KIB * FOOTPRINT.inflated, maxBytesPerAddress: 2 * 1024 * KIB * FOOTPRINT.inflated, smallBytes: 64 * KIB },
    });
    try {
      const attacker = http2.connect(`http://127.0.0.1:${small.port}`);
      attacker.on("error", () => undefined);
      const topic = randomBytes(16);
      const compressed = frameOf(sendPayload(topic, 100 * KIB), true);
      // One compressed send left unfinished holds 1.5 MiB of the address's 2 MiB.
      const held = send(attacker, compressed, { gzip: true, hold: true });
      await sleep(200);
      assert.equal(await send(attacker, compressed, { gzip: true }).status, 8, "a second compressed send is RESOURCE_EXHAUSTED");
      assert.equal(await send(attacker, frameOf(sendPayload(topic, 100 * KIB), false), { gzip: false }).status, 0, "an uncompressed one is taken");
      // The unfinished one goes: its reservation with it.
      held.stream.close(http2.constants.NGHTTP2_CANCEL);
      let status = 8;
      for (let attempt = 0; attempt < 20 && status !== 0; attempt += 1) {
        await sleep(100);
        status = await send(attacker, compressed, { gzip: true }).status;
      }
      assert.equal(status, 0, "a compressed send is taken again");
      attacker.destroy();
      const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://[::1]:${small.port}` }));
      assert.equal((await mls.queryGroupMessages({ groupId: topic })).messages.length, 2);
    } finally {
      await small.stop();
    }
  });

  it("gives the node's share of an answer that is out back once a full collection started after it, or after GARBAGE_WAIT_MS", async () => {
    setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as () => void;
    const memory = new MemoryInFlight({ maxBytes: 6 * MIB, maxBytesPerAddress: 6 * MIB, smallBytes: 1 });
    const admitted = async (address: string) => {
      let done = false;
      const reserved = memory.reserve(address, MIB, "answer").then((counted) => ((done = true), counted));
      await sleep(50);
      return { done: () => done, reserved };
    };
    const first = await memory.reserve("a", MIB, "answer");
    assert.equal(first, MIB * FOOTPRINT.answer);
    memory.release("a", first);
    const second = await admitted("b");
    assert.equal(second.done(), false, "the first answer's buffers are garbage, not free: the next waits");
    collect();
    await sleep(50);
    assert.equal(second.done(), true, "a full collection gave them back");

    memory.release("b", await second.reserved);
    const started = performance.now();
    const third = await admitted("c");
    assert.equal(third.done(), false);
    await third.reserved;
    const waited = performance.now() - started;
    assert.ok(waited < GARBAGE_WAIT_MS + 800, `with no full collection, given back after ${GARBAGE_WAIT_MS} ms at most (waited ${waited.toFixed(0)} ms)`);
    memory.release("c", MIB * FOOTPRINT.answer);
  });
});
