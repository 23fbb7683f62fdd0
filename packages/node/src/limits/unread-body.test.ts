// A refused HTTP/1.1 request body is not read to its end, mounted with a raw
// socket against a real node: the client announces a body of 8 MiB, sends
// 4 KiB of it and waits for the answer; the node refuses it (too large for
// its method by its Content-Length, by its gRPC-web length prefix, or out of
// tokens at the gate), says `Connection: close`, and ends the connection
// while the client goes on sending as fast as the node takes it. What the
// node read of the socket (its own count, taken through Node's
// `http.server.request.start` diagnostics channel) stays far below the
// body. Attacker 127.0.0.1.
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { eventually, startAbuseNode } from "../abuse.test-util.js";
import type { RunningNode } from "../node.js";

const KIB = 1024;
const DECLARED = 8 * 1024 * KIB;
const SENT_FIRST = 4 * KIB;
/** connect-node reads up to 256 KiB of a refused body before it answers; the node must read less in all. */
const READ_BOUND = 256 * KIB;
const QUERY_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/QueryGroupMessages";
const SEND_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/SendGroupMessages";

/** The node's side of each HTTP/1.1 request's connection, by the client's port. */
const serverSockets = new Map<number, net.Socket>();
const onRequest = (message: unknown) => {
  const { socket } = message as { socket: net.Socket };
  if (socket.remotePort !== undefined) serverSockets.set(socket.remotePort, socket);
};

/** A gRPC-web request's first bytes: its envelope declaring `length` bytes of message. */
function grpcWebPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

interface Refusal {
  /** The node's answer, whole. */
  readonly answer: string;
  /** Bytes the node read of the connection, request head included. */
  readonly nodeRead: number;
  /** Bytes the client sent, request head included. */
  readonly sent: number;
}

/**
 * Sends `head` and the first 4 KiB of a body of 8 MiB, waits for the
 * answer, then sends the rest until the node closes the connection.
 */
async function refusedWhileSending(node: RunningNode, head: string, first: Buffer): Promise<Refusal> {
  // Half-open allowed: the client may go on sending after the node's FIN, as one still uploading would.
  const socket = net.connect({ port: node.port, host: "127.0.0.1", allowHalfOpen: true });
  socket.on("error", () => undefined);
  await once(socket, "connect");
  const port = socket.localPort ?? 0;
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
  // Not events.once: an EPIPE or ECONNRESET on the way is expected, not a failure.
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const filler = Buffer.alloc(SENT_FIRST - first.length, 0xaa);
  socket.write(head);
  socket.write(Buffer.concat([first, filler]));
  let sent = Buffer.byteLength(head) + SENT_FIRST;
  // Answered while most of the body is still to come (connect-node alone waits for 256 KiB of it).
  await eventually(() => answer.includes("\r\n\r\n"), 5_000, () => `no answer with ${sent} bytes sent: ${JSON.stringify(answer)}`);
  const chunk = Buffer.alloc(64 * KIB, 0xbb);
  let end = false;
  void closed.then(() => (end = true));
  while (!end && socket.writable && sent < DECLARED) {
    sent += chunk.length;
    if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), closed]);
  }
  await Promise.race([
    closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`still open after sending ${sent} bytes`)), 10_000).unref()),
  ]);
  const server = serverSockets.get(port);
  assert.ok(server !== undefined, "the node's socket was seen");
  return { answer, nodeRead: server.bytesRead, sent };
}

const head = (path: string, contentType: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\n${extra}Content-Length: ${DECLARED}\r\n\r\n`;

describe("a refused HTTP/1.1 body is not read to its end", { timeout: 60_000 }, () => {
  let node: RunningNode;
  let limited: RunningNode;

  before(async () => {
    diagnosticsChannel.subscribe("http.server.request.start", onRequest);
    node = await startAbuseNode();
    // No publish token at all: every send is refused at the gate, before its body is read.
    limited = await startAbuseNode({ rateLimits: { publish: { capacity: 0, refillPerMinute: 0 }, default: { capacity: 1000, refillPerMinute: 0 } } });
  });
  after(async () => {
    diagnosticsChannel.unsubscribe("http.server.request.start", onRequest);
    await node.stop();
    await limited.stop();
  });

  const assertRefusedUnread = (refusal: Refusal, status: RegExp) => {
    assert.match(refusal.answer, /^HTTP\/1\.1 \d{3} /);
    assert.match(refusal.answer, /\r\nconnection: close\r\n/i, "the answer says the connection ends");
    assert.match(refusal.answer, status);
    assert.ok(refusal.nodeRead < READ_BOUND, `the node read ${refusal.nodeRead} bytes of ${refusal.sent} sent`);
  };

  it("too large by its Content-Length (Connect unary): answered, closed, the rest not read", async () => {
    const refusal = await refusedWhileSending(node, head(QUERY_GROUP_MESSAGES, "application/proto"), Buffer.alloc(0));
    assertRefusedUnread(refusal, /resource_exhausted/);
  });

  it("too large by its gRPC-web length prefix: answered, closed, the rest not read", async () => {
    const refusal = await refusedWhileSending(node, head(QUERY_GROUP_MESSAGES, "application/grpc-web+proto"), grpcWebPrefix(DECLARED - 5));
    assertRefusedUnread(refusal, /grpc-status: ?8/);
  });

  it("out of tokens at the gate: answered, closed, the rest not read", async () => {
    const refusal = await refusedWhileSending(limited, head(SEND_GROUP_MESSAGES, "application/grpc-web+proto"), grpcWebPrefix(DECLARED - 5));
    assertRefusedUnread(refusal, /grpc-status: ?8/);
  });

  it("a request read whole keeps its connection", async () => {
    const socket = net.connect(node.port, "127.0.0.1");
    socket.on("error", () => undefined);
    await once(socket, "connect");
    const body = '{"service":""}';
    const request = `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    let answers = "";
    socket.on("data", (chunk: Buffer) => (answers += chunk.toString("latin1")));
    socket.write(request);
    await eventually(() => answers.includes("SERVING"), 5_000, () => answers);
    socket.write(request);
    await eventually(() => answers.split("SERVING").length === 3, 5_000, () => answers);
    assert.doesNotMatch(answers, /connection: close/i);
    socket.destroy();
  });
});
