// Nothing is decoded before it is limited, over real HTTP/2: a request larger
// than its method needs is refused before it is decoded (before its body is
// even sent, when its length prefix says so), a gzip bomb is refused while it
// inflates, a client out of tokens is refused before its body is read and
// cut off as its bytes outrun its budget, and a flood of large publishes
// from one address meets the byte-based limit while a client at another
// address keeps working. The node listens on `::`: the attacker is
// 127.0.0.1, the normal client ::1.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { mlsApi } from "@parley/proto";
import { mlsSamples, startTestNode } from "@parley/testkit";
import { codeOf } from "../grpc-code.test-util.js";
import type { RunningNode } from "../node.js";
import type { RateLimits } from "./rate-limit.js";

const QUERY_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/QueryGroupMessages";
const FETCH_KEY_PACKAGES = "/xmtp.mls.api.v1.MlsApi/FetchKeyPackages";
const SEND_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/SendGroupMessages";
/** Long enough for any answer on a loaded machine; a node that waits for a body never sent gives none. */
const ANSWER_DEADLINE_MS = 10_000;
const NO_ANSWER = "no answer";
const GRPC_OK = 0;

/** A gRPC length-prefixed message: the flag byte, the length, the payload. */
function grpcFrame(payload: Uint8Array, options: { compressed?: boolean; declaredLength?: number } = {}): Uint8Array {
  const frame = new Uint8Array(5 + payload.length);
  frame[0] = options.compressed ? 1 : 0;
  new DataView(frame.buffer).setUint32(1, options.declaredLength ?? payload.length);
  frame.set(payload, 5);
  return frame;
}

/**
 * The grpc-status a raw gRPC call over `session` is answered with, or
 * NO_ANSWER when none comes by the deadline. With `end: false` the request
 * stays open after `chunks`, as a client that has not finished sending.
 */
function rawCall(
  session: http2.ClientHttp2Session,
  path: string,
  chunks: readonly Uint8Array[],
  options: { end?: boolean; headers?: http2.OutgoingHttpHeaders } = {},
): Promise<number | typeof NO_ANSWER> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...options.headers });
    const deadline = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve(NO_ANSWER);
    }, ANSWER_DEADLINE_MS);
    const take = (headers: http2.IncomingHttpHeaders) => {
      const value = headers["grpc-status"];
      if (value === undefined) return;
      clearTimeout(deadline);
      resolve(Number(value));
      stream.close();
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => undefined);
    // The node may reset a stream it refused while the client still writes.
    stream.on("error", () => undefined);
    stream.on("close", () => clearTimeout(deadline));
    for (const chunk of chunks) stream.write(chunk);
    if (options.end !== false) stream.end();
  });
}

/**
 * An MLS PrivateMessage (RFC 9420 section 6.3.2) of `group` with `size`
 * bytes of ciphertext: framing the node accepts, contents it cannot read,
 * as any sender can make.
 */
function privateMessage(group: Uint8Array, size: number, ciphertext: (size: number) => Uint8Array = (n) => randomBytes(n)): Uint8Array {
  // RFC 9420 section 2.1.2 variable-length integers (4 bytes up to 2^30).
  const vector = (bytes: Uint8Array) => {
    const out = new Uint8Array(4 + bytes.length);
    new DataView(out.buffer).setUint32(0, (0b10 << 30) | bytes.length);
    out.set(bytes, 4);
    return out;
  };
  const header = new Uint8Array([0, 1, 0, 2]); // mls10, mls_private_message
  const epoch = new Uint8Array(8);
  const application = new Uint8Array([1]);
  const parts = [header, vector(group), epoch, application, vector(new Uint8Array()), vector(randomBytes(48)), vector(ciphertext(size))];
  return new Uint8Array(Buffer.concat(parts));
}

const send = (data: Uint8Array) =>
  toBinary(mlsApi.SendGroupMessagesRequestSchema, create(mlsApi.SendGroupMessagesRequestSchema, { messages: [{ version: { case: "v1", value: { data } } }] }));

describe("request intake over HTTP/2", { timeout: 120_000 }, () => {
  const nodes: RunningNode[] = [];
  const sessions: http2.ClientHttp2Session[] = [];
  after(async () => {
    for (const session of sessions) session.destroy();
    for (const node of nodes) await node.stop();
  });

  async function start(rateLimits: RateLimits | false = false): Promise<RunningNode> {
    const node = await startTestNode({ host: "::", rateLimits });
    nodes.push(node);
    return node;
  }
  /** A raw HTTP/2 connection from the attacker's address. */
  function attacker(node: RunningNode): http2.ClientHttp2Session {
    const session = http2.connect(`http://127.0.0.1:${node.port}`);
    session.on("error", () => undefined);
    sessions.push(session);
    return session;
  }
  const normalClient = (node: RunningNode) => createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://[::1]:${node.port}` }));
  const group = new Uint8Array(randomBytes(16));

  it("refuses a request larger than its method needs before decoding it, and still takes one its method needs", async () => {
    const node = await start();
    const session = attacker(node);
    // 64 KiB of garbage to a query of one group: decoded, it would be INVALID_ARGUMENT.
    assert.equal(await rawCall(session, QUERY_GROUP_MESSAGES, [grpcFrame(new Uint8Array(64 * 1024).fill(0xff))]), Code.ResourceExhausted);
    // A length prefix of 8 MiB and no body: refused on the prefix, while the request is still open.
    assert.equal(await rawCall(session, QUERY_GROUP_MESSAGES, [grpcFrame(new Uint8Array(), { declaredLength: 8 * 1024 * 1024 })], { end: false }), Code.ResourceExhausted);
    // A well-formed query naming a 64 KiB group id, from real clients of each protocol.
    const bigQuery = { groupId: new Uint8Array(64 * 1024) };
    const attackerGrpc = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://127.0.0.1:${node.port}` }));
    assert.equal(await codeOf(attackerGrpc.queryGroupMessages(bigQuery)), Code.ResourceExhausted);
    const attackerConnect = createClient(mlsApi.MlsApi, createConnectTransport({ baseUrl: `http://127.0.0.1:${node.port}`, httpVersion: "1.1" }));
    assert.equal(await codeOf(attackerConnect.queryGroupMessages(bigQuery)), Code.ResourceExhausted);

    const normal = normalClient(node);
    assert.deepEqual((await normal.queryGroupMessages({ groupId: group })).messages, []);
    // A send carries what its method needs: a 1 MiB message is taken.
    await normal.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessage(group, 1024 * 1024) } } }] });
    assert.equal((await normal.queryGroupMessages({ groupId: group })).messages.length, 1);
  });

  it("refuses a gzip or brotli bomb while it inflates, and never inflates it whole", async () => {
    const node = await start();
    // 40 MiB of zeros in 40 gzip members of about 1 KiB each, then bytes
    // that are not gzip: inflated whole, the bomb would end in a data
    // error (INVALID_ARGUMENT); stopped at FetchKeyPackages' size, it
    // never reaches them.
    const member = gzipSync(new Uint8Array(1024 * 1024));
    const bomb = new Uint8Array(Buffer.concat([...Array<Buffer>(40).fill(member), Buffer.from("not gzip at all")]));
    assert.ok(bomb.length < 64 * 1024);
    const status = await rawCall(attacker(node), FETCH_KEY_PACKAGES, [grpcFrame(bomb, { compressed: true })], { headers: { "grpc-encoding": "gzip" } });
    assert.equal(status, Code.ResourceExhausted);
    // The same with brotli: 40 MiB of zeros in a few bytes.
    const brotliBomb = brotliCompressSync(new Uint8Array(40 * 1024 * 1024));
    const brotliStatus = await rawCall(attacker(node), FETCH_KEY_PACKAGES, [grpcFrame(brotliBomb, { compressed: true })], { headers: { "grpc-encoding": "br" } });
    assert.equal(brotliStatus, Code.ResourceExhausted);
    const keys = await normalClient(node).fetchKeyPackages({ installationKeys: [new Uint8Array(32)] });
    assert.equal(keys.keyPackages.length, 1);
  });

  it("charges a publish before its body is read, and stops reading a body its client cannot pay for", async () => {
    // 64 tokens: 1 MiB of publishes.
    const node = await start({ publish: { capacity: 64, refillPerMinute: 0 }, default: { capacity: 1000, refillPerMinute: 0 } });
    const session = attacker(node);
    // A 4 MiB message declared, 2 MiB of it sent, the request left open: cut off as the bytes outrun the budget.
    const declared = grpcFrame(new Uint8Array(), { declaredLength: 4 * 1024 * 1024 });
    const sent = [declared, ...Array.from({ length: 32 }, () => new Uint8Array(64 * 1024))];
    assert.equal(await rawCall(session, SEND_GROUP_MESSAGES, sent, { end: false }), Code.ResourceExhausted);
    // The bucket is empty now: a call that declares a body and sends none is refused before it is read.
    assert.equal(await rawCall(session, SEND_GROUP_MESSAGES, [declared], { end: false }), Code.ResourceExhausted);

    const normal = normalClient(node);
    await normal.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessage(group, 256) } } }] });
    assert.equal((await normal.queryGroupMessages({ groupId: group })).messages.length, 1);
  });

  it("charges a compressed publish by the bytes it inflates to", async () => {
    // 40 tokens: 640 KiB of publishes; 1 MiB that compresses to a few KiB does not fit.
    const node = await start({ publish: { capacity: 40, refillPerMinute: 0 }, default: { capacity: 1000, refillPerMinute: 0 } });
    const compressible = send(privateMessage(group, 1024 * 1024, (n) => new Uint8Array(n)));
    const compressed = gzipSync(compressible);
    assert.ok(compressed.length < 16 * 1024);
    const status = await rawCall(attacker(node), SEND_GROUP_MESSAGES, [grpcFrame(compressed, { compressed: true })], { headers: { "grpc-encoding": "gzip" } });
    assert.equal(status, Code.ResourceExhausted);
    const normal = normalClient(node);
    assert.deepEqual((await normal.queryGroupMessages({ groupId: group })).messages, [], "nothing stored");
    await normal.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessage(group, 256) } } }] });
  });

  it("meets a flood of large publishes from one address with the byte-based limit, while another address keeps working", async () => {
    // 200 tokens: about 3 MiB of publishes, or 200 small messages.
    const node = await start({ publish: { capacity: 200, refillPerMinute: 0 }, default: { capacity: 10_000, refillPerMinute: 0 } });
    const samples = await mlsSamples(1);
    const session = attacker(node);
    const statuses: (number | typeof NO_ANSWER)[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await rawCall(session, SEND_GROUP_MESSAGES, [grpcFrame(send(privateMessage(group, 256 * 1024)))]));
    const accepted = statuses.filter((status) => status === GRPC_OK).length;
    // Each 256 KiB message costs 16 tokens: 12 fit in 200.
    assert.ok(accepted >= 10 && accepted <= 12, `${accepted} of 40 large publishes accepted`);
    assert.deepEqual(new Set(statuses.slice(accepted)), new Set([Code.ResourceExhausted]));

    const normal = normalClient(node);
    for (let i = 0; i < 10; i++) {
      await normal.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessage(group, 256 * 1024) } } }] });
    }
    await normal.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: samples.applicationMessages[0] ?? new Uint8Array() } } }] });
    const stored = await normal.queryGroupMessages({ groupId: group, pagingInfo: { limit: 100 } });
    assert.equal(stored.messages.length, accepted + 10);
    assert.equal((await normal.queryGroupMessages({ groupId: samples.groupId })).messages.length, 1);
  });
});
