// Peers that vanish without closing, mounted against a real node: a raw
// HTTP/2 peer speaks just enough of the protocol to open a subscription and
// an unfinished compressed send, then reads what it is sent and never
// writes again, as a peer whose network went away. The node pings it, gets
// no acknowledgement, and closes the connection, letting go of its calls,
// its topic and the memory its send reserved. A peer that answers PINGs
// (Node's own client does) keeps its stream for as long as it likes. With
// and without TLS. HTTP/1.1 has no PING: an accepted socket holding a
// gRPC-web stream has the kernel's keep-alive timer running (read from
// Linux's /proc/net/tcp6). Attacker 127.0.0.1, normal client ::1.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mlsApi } from "@parley/proto";
import { testTls } from "@parley/testkit";
import {
  EMPTY_SETTINGS,
  eventually,
  groupMessage,
  H2,
  headerBlock,
  HTTP2_PREFACE,
  http2Frame,
  newGroup,
  publish,
  rawCall,
  startAbuseNode,
  SUBSCRIBE_GROUP_MESSAGES,
  subscribeGroupBody,
  v1,
} from "../abuse.test-util.js";
import type { RunningNode } from "../node.js";

const SEND_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/SendGroupMessages";
const INTERVAL_MS = 300;
const TIMEOUT_MS = 500;
/** Timers fire late on a loaded machine; a connection kept for ever is what fails. */
const SLACK_MS = 2_000;
const KIB = 1024;

/** A send of one message of `size` bytes, gzipped, as one gRPC frame (flag 1: compressed). */
function compressedSend(group: Uint8Array, size: number): Buffer {
  const request = create(mlsApi.SendGroupMessagesRequestSchema, { messages: [v1(groupMessage(group, size))] });
  const body = gzipSync(toBinary(mlsApi.SendGroupMessagesRequestSchema, request));
  const head = Buffer.alloc(5);
  head.writeUInt8(1, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The grpc-status of a compressed send made with Node's client from the attacker's address. */
async function sendStatus(node: RunningNode, frame: Buffer): Promise<number> {
  const session = http2.connect(`${schemeOf(node)}://127.0.0.1:${node.port}`, { rejectUnauthorized: false });
  session.on("error", () => undefined);
  try {
    const stream = session.request({ ":method": "POST", ":path": SEND_GROUP_MESSAGES, "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" });
    stream.on("error", () => undefined);
    const status = new Promise<number>((resolve) => {
      const take = (headers: http2.IncomingHttpHeaders) => {
        const value = headers["grpc-status"];
        if (value !== undefined) resolve(Number(value));
      };
      stream.on("response", take);
      stream.on("trailers", take);
    });
    stream.resume();
    stream.end(frame);
    return await status;
  } finally {
    session.destroy();
  }
}

const schemeOf = (node: RunningNode) => (node.url.startsWith("https:") ? "https" : "http");

/** Resolves with how long the other side took to close the socket, from `since`; rejects past `ms`. */
function closedWithin(socket: net.Socket, since: number, ms: number): Promise<number> {
  if (socket.destroyed) return Promise.resolve(Date.now() - since);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - since);
    });
  });
}

for (const secure of [false, true]) {
  describe(`keep-alive on HTTP/2${secure ? " with TLS" : ""}`, { timeout: 60_000 }, () => {
    let node: RunningNode;
    const sockets: net.Socket[] = [];
    const sessions: http2.ClientHttp2Session[] = [];

    before(async () => {
      node = await startAbuseNode({
        ...(secure ? { tls: testTls() } : {}),
        connectionLimits: { keepAliveIntervalMs: INTERVAL_MS, keepAliveTimeoutMs: TIMEOUT_MS },
        // A send may inflate to 2 x 256 KiB + 1 MiB = 1.5 MiB: one holds most of an address's 2 MiB.
        requestLimits: { maxPayloadBytes: 256 * KIB },
        memoryInFlight: { maxBytes: 4 * 1024 * KIB, maxBytesPerAddress: 2 * 1024 * KIB, smallBytes: 64 * KIB },
      });
    });
    after(async () => {
      for (const socket of sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      await node.stop();
    });

    it("closes a connection whose peer stops answering, and lets go of everything its streams held", async () => {
      const group = newGroup();
      const socket = secure
        ? tls.connect({ host: "127.0.0.1", port: node.port, rejectUnauthorized: false, ALPNProtocols: ["h2"] })
        : net.connect(node.port, "127.0.0.1");
      socket.on("error", () => undefined);
      sockets.push(socket);
      await once(socket, secure ? "secureConnect" : "connect");
      // What the node sends (its SETTINGS, answers, PINGs) is read and dropped: the peer's TCP stays healthy.
      socket.resume();
      const request = (path: string, extra: (readonly [string, string])[] = []) =>
        headerBlock([
          [":method", "POST"],
          [":scheme", secure ? "https" : "http"],
          [":path", path],
          [":authority", "localhost"],
          ["content-type", "application/grpc"],
          ["te", "trailers"],
          ...extra,
        ]);
      const unfinished = compressedSend(group, 100 * KIB).subarray(0, 100);
      socket.write(
        Buffer.concat([
          Buffer.from(HTTP2_PREFACE, "latin1"),
          EMPTY_SETTINGS,
          // The node's SETTINGS, acknowledged before they arrive: nothing else is ever sent.
          http2Frame(H2.SETTINGS, H2.ACK, 0),
          // Stream 1: a subscription, its request whole; the answer stays open.
          http2Frame(H2.HEADERS, H2.END_HEADERS, 1, request(SUBSCRIBE_GROUP_MESSAGES)),
          http2Frame(H2.DATA, H2.END_STREAM, 1, subscribeGroupBody(group)),
          // Stream 3: a compressed send, 100 bytes of it: the node reserves what it may inflate to.
          http2Frame(H2.HEADERS, H2.END_HEADERS, 3, request(SEND_GROUP_MESSAGES, [["grpc-encoding", "gzip"]])),
          http2Frame(H2.DATA, 0, 3, unfinished),
        ]),
      );
      await eventually(() => node.load().calls === 2 && node.load().subscribedTopics === 1, 10_000, () => JSON.stringify(node.load()));
      const opened = Date.now();
      // Held now: another compressed send from the address does not fit its share.
      assert.equal(await sendStatus(node, compressedSend(group, 100 * KIB)), 8, "RESOURCE_EXHAUSTED while the silent peer holds its reservation");

      const took = await closedWithin(socket, opened, INTERVAL_MS + TIMEOUT_MS + SLACK_MS);
      assert.ok(took >= INTERVAL_MS, `closed after ${took} ms: not before a PING was due`);
      // Its calls, its topic and its connection are gone; its memory given back.
      await eventually(
        () => node.load().calls === 0 && node.load().subscribedTopics === 0 && node.load().connections === 0,
        10_000,
        () => JSON.stringify(node.load()),
      );
      assert.equal(await sendStatus(node, compressedSend(group, 100 * KIB)), 0, "a compressed send from the address is taken again");
      await eventually(() => node.load().timers === 0, 10_000, () => JSON.stringify(node.load()));
    });

    it("keeps a connection whose peer answers its PINGs, and its stream keeps delivering", async () => {
      const group = newGroup();
      const session = http2.connect(`${schemeOf(node)}://[::1]:${node.port}`, { rejectUnauthorized: false });
      session.on("error", () => undefined);
      sessions.push(session);
      let pings = 0;
      session.on("ping", () => (pings += 1));
      const stream = rawCall(session, SUBSCRIBE_GROUP_MESSAGES, subscribeGroupBody(group));
      await once(stream, "response");
      await sleep(3 * (INTERVAL_MS + TIMEOUT_MS));
      assert.ok(pings >= 2, `${pings} PINGs received: the node asks while the stream is open`);
      assert.equal(session.closed || session.destroyed, false, "the connection is open");
      assert.equal(stream.closed, false, "the stream is open");
      const data = once(stream, "data");
      const transport = createGrpcTransport({ baseUrl: `${schemeOf(node)}://[::1]:${node.port}`, nodeOptions: { rejectUnauthorized: false } });
      await publish(createClient(mlsApi.MlsApi, transport), group, 1, 200);
      await data;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
  });
}

/**
 * The TCP timer of the node's side of a connection, from Linux's
 * /proc/net/tcp6 (the node listens on `::`, so an IPv4 peer is mapped):
 * its kind ("02": keep-alive) and when it is due, in seconds.
 */
function nodeSideTimer(nodePort: number, peerPort: number): { kind: string; dueS: number } | undefined {
  const port = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  for (const line of readFileSync("/proc/net/tcp6", "utf8").split("\n").slice(1)) {
    const [, local, remote, state, , timer] = line.trim().split(/\s+/);
    if (!local?.endsWith(`:${port(nodePort)}`) || !remote?.endsWith(`:${port(peerPort)}`) || state !== "01") continue;
    const [kind = "", due = "0"] = (timer ?? "").split(":");
    // In clock ticks of USER_HZ, 100 a second.
    return { kind, dueS: Number.parseInt(due, 16) / 100 };
  }
  return undefined;
}

describe("TCP keep-alive on HTTP/1.1", { skip: !existsSync("/proc/net/tcp6") && "reads Linux's /proc/net/tcp6" }, () => {
  it("a socket holding a gRPC-web stream has the kernel's keep-alive timer, first probe due within the interval", async () => {
    const INTERVAL_S = 7;
    const node = await startAbuseNode({ connectionLimits: { keepAliveIntervalMs: INTERVAL_S * 1000 } });
    const socket = net.connect(node.port, "127.0.0.1");
    socket.on("error", () => undefined);
    try {
      await once(socket, "connect");
      socket.resume();
      const body = subscribeGroupBody(newGroup());
      socket.write(
        `POST ${SUBSCRIBE_GROUP_MESSAGES} HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web+proto\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
      await eventually(() => node.load().subscribedTopics === 1, 10_000, () => JSON.stringify(node.load()));
      const peerPort = socket.localPort ?? 0;
      await eventually(() => nodeSideTimer(node.port, peerPort)?.kind === "02", 10_000, () => JSON.stringify(nodeSideTimer(node.port, peerPort)));
      const timer = nodeSideTimer(node.port, peerPort);
      assert.ok(timer !== undefined && timer.dueS > 0 && timer.dueS <= INTERVAL_S, `the first probe is due in ${timer?.dueS} s`);
    } finally {
      socket.destroy();
      await node.stop();
    }
  });
});
