// Clients that hold calls open without keeping up, and connections that
// hold the port without a call, mounted against a real node: a stream or an
// answer the client does not read (HTTP/2 flow control, an HTTP/1.1 socket
// left unread) is cut off once stalled past its deadline; a request body
// trickled a byte at a time, on HTTP/2 and HTTP/1.1, is cut off at its
// deadline; calls in progress are capped per address over all its
// connections; the connection deadlines (first request, idle keep-alive)
// hold on HTTP/1.1 and HTTP/2, with and without TLS. A normal client at
// another address is served throughout. Attacker 127.0.0.1, normal ::1.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { health, mlsApi } from "@parley/proto";
import { testTls } from "@parley/testkit";
import {
  closed,
  EMPTY_SETTINGS,
  eventually,
  grpcFrame,
  groupMessage,
  HTTP2_PREFACE,
  newGroup,
  normalClient,
  publish,
  rawCall,
  startAbuseNode,
  SUBSCRIBE_GROUP_MESSAGES,
  subscribeGroupBody,
} from "../abuse.test-util.js";
import type { RunningNode } from "../node.js";

const ENHANCE_YOUR_CALM = http2.constants.NGHTTP2_ENHANCE_YOUR_CALM;
const QUERY_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/QueryGroupMessages";
const SEND_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/SendGroupMessages";
const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const DEADLINE_MS = 300;
/** Generous: the deadline is short, the machine may be loaded. */
const WITHIN_MS = 15_000;

/** Resolves when the other side closes the socket, rejects if that takes longer than `ms`. */
function socketClosedWithin(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The normal client publishes and reads back what it sent. */
async function normalClientWorks(node: RunningNode): Promise<void> {
  const mls = normalClient(node);
  const group = newGroup();
  await publish(mls, group, 2, 200);
  const page = await mls.queryGroupMessages({ groupId: group });
  assert.equal(page.messages.length, 2);
}

describe("slow clients", { timeout: 120_000 }, () => {
  let node: RunningNode;
  /** 2 MiB of history: more than any window and socket buffer hold. */
  const big = newGroup();
  const sessions: http2.ClientHttp2Session[] = [];
  const sockets: net.Socket[] = [];

  before(async () => {
    node = await startAbuseNode({
      // Only the deadlines under test are short; a request's a little less, so that the
      // history below (200 KiB a call) arrives in time on a loaded machine.
      connectionLimits: { writeStallTimeoutMs: DEADLINE_MS, requestTimeoutMs: 4 * DEADLINE_MS, maxCallsPerAddress: 6 },
    });
    await publish(normalClient(node), big, 100, 200 * 1024, 1);
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await node.stop();
  });

  const attackerSession = () => {
    const session = http2.connect(`http://127.0.0.1:${node.port}`);
    session.on("error", () => undefined);
    sessions.push(session);
    return session;
  };
  const attackerSocket = async () => {
    const socket = net.connect(node.port, "127.0.0.1");
    socket.on("error", () => undefined);
    sockets.push(socket);
    await once(socket, "connect");
    return socket;
  };

  it("resets an HTTP/2 stream and an answer the client stops reading, once stalled past the deadline", async () => {
    const session = attackerSession();
    const stream = rawCall(session, SUBSCRIBE_GROUP_MESSAGES, subscribeGroupBody(big));
    const answer = rawCall(session, QUERY_GROUP_MESSAGES, grpcFrame(mlsApi.QueryGroupMessagesRequestSchema, { groupId: big }));
    stream.pause();
    answer.pause();
    await normalClientWorks(node);
    assert.equal(await within(closed(stream), WITHIN_MS, "the stalled stream"), ENHANCE_YOUR_CALM);
    assert.equal(await within(closed(answer), WITHIN_MS, "the stalled answer"), ENHANCE_YOUR_CALM);
    await normalClientWorks(node);
  });

  it("closes an HTTP/1.1 connection whose client stops reading its answer", async () => {
    const socket = await attackerSocket();
    const body = grpcFrame(mlsApi.QueryGroupMessagesRequestSchema, { groupId: big });
    socket.write(
      `POST ${QUERY_GROUP_MESSAGES} HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web+proto\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body);
    socket.pause();
    await normalClientWorks(node);
    // The node lets go of the call (its socket's unsent bytes wait behind the client's full buffers)...
    await eventually(() => node.load().calls === 0, WITHIN_MS, () => JSON.stringify(node.load()));
    // ...and the client that reads on gets what was in flight, then the end, not the whole answer.
    let received = 0;
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.resume();
    await socketClosedWithin(socket, WITHIN_MS);
    assert.ok(received < 100 * 200 * 1024, `${received} bytes received`);
  });

  it("cuts off a request body trickled a byte at a time, on HTTP/2 and HTTP/1.1", async () => {
    const body = grpcFrame(mlsApi.SendGroupMessagesRequestSchema, {
      messages: [{ version: { case: "v1", value: { data: groupMessage(newGroup(), 2000) } } }],
    });
    const session = attackerSession();
    const stream = rawCall(session, SEND_GROUP_MESSAGES, body.subarray(0, 1), false);
    const socket = await attackerSocket();
    socket.write(
      `POST ${SEND_GROUP_MESSAGES} HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web+proto\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    // A byte every 50 ms: the connection is never silent, the request never done.
    let sent = 1;
    const dribble = setInterval(() => {
      if (sent >= body.length) return;
      if (!stream.closed) stream.write(body.subarray(sent, sent + 1));
      if (socket.writable) socket.write(body.subarray(sent - 1, sent));
      sent += 1;
    }, 50);
    try {
      await normalClientWorks(node);
      assert.equal(await within(closed(stream), WITHIN_MS, "the trickled HTTP/2 request"), ENHANCE_YOUR_CALM);
      await socketClosedWithin(socket, WITHIN_MS);
    } finally {
      clearInterval(dribble);
    }
    assert.ok(sent < body.length, "cut off before the body was complete");
  });

  it("caps calls in progress per address over all its connections, and frees a place when one ends", async () => {
    await eventually(() => node.load().calls === 0, WITHIN_MS, () => JSON.stringify(node.load()));
    const group = newGroup();
    const held: http2.ClientHttp2Stream[] = [];
    for (let connection = 0; connection < 3; connection++) {
      const session = attackerSession();
      for (let i = 0; i < 2; i++) held.push(rawCall(session, SUBSCRIBE_GROUP_MESSAGES, subscribeGroupBody(group)));
    }
    await Promise.all(held.map((s) => once(s, "response")));
    await eventually(() => node.load().calls === 6, WITHIN_MS, () => JSON.stringify(node.load()));

    const statusOf = async (stream: http2.ClientHttp2Stream) => {
      stream.resume();
      const [trailers] = (await once(stream, "trailers")) as [http2.IncomingHttpHeaders];
      return trailers["grpc-status"];
    };
    // A seventh, on a connection of its own, is refused (RESOURCE_EXHAUSTED).
    const seventh = rawCall(attackerSession(), SUBSCRIBE_GROUP_MESSAGES, subscribeGroupBody(group));
    assert.equal(await statusOf(seventh), "8");
    // The normal client, at another address, subscribes and receives.
    const mls = normalClient(node);
    const abort = new AbortController();
    const live = mls.subscribeGroupMessages({ filters: [{ groupId: group }] }, { signal: abort.signal })[Symbol.asyncIterator]();
    const first = live.next();
    await eventually(() => node.load().calls === 7, WITHIN_MS, () => JSON.stringify(node.load()));
    await publish(mls, group, 1, 200);
    assert.equal((await first).done, false);
    abort.abort();

    // One of the six ends: the attacker may open another.
    held[0]?.close(http2.constants.NGHTTP2_CANCEL);
    await eventually(() => node.load().calls === 5, WITHIN_MS, () => JSON.stringify(node.load()));
    const again = rawCall(attackerSession(), SUBSCRIBE_GROUP_MESSAGES, subscribeGroupBody(group));
    const [headers] = (await once(again, "response")) as [http2.IncomingHttpHeaders];
    assert.equal(headers["grpc-status"], undefined, "accepted: no trailers-only refusal");
    await eventually(() => node.load().calls === 6, WITHIN_MS, () => JSON.stringify(node.load()));
    for (const stream of [...held, again]) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
});

describe("connection deadlines on HTTP/1.1 and HTTP/2, with and without TLS", { timeout: 120_000 }, () => {
  for (const secure of [false, true]) {
    describe(secure ? "with TLS" : "cleartext", () => {
      let node: RunningNode;
      const opened: { destroy(): void }[] = [];
      const scheme = secure ? "https" : "http";

      before(async () => {
        node = await startAbuseNode({
          ...(secure ? { tls: testTls() } : {}),
          connectionLimits: { firstRequestTimeoutMs: DEADLINE_MS, idleTimeoutMs: DEADLINE_MS },
        });
      });
      after(async () => {
        for (const socket of opened) socket.destroy();
        await node.stop();
      });

      /** The attacker's connection: TCP, and with TLS a completed handshake offering `alpn`. */
      async function connect(alpn: "h2" | "http/1.1"): Promise<net.Socket> {
        const socket = secure
          ? tls.connect({ host: "127.0.0.1", port: node.port, rejectUnauthorized: false, ALPNProtocols: [alpn] })
          : net.connect(node.port, "127.0.0.1");
        socket.on("error", () => undefined);
        opened.push(socket);
        await once(socket, secure ? "secureConnect" : "connect");
        return socket;
      }

      const normalClientAnswers = async () => {
        const transport = createGrpcTransport({
          baseUrl: `${scheme}://[::1]:${node.port}`,
          // The test certificate names 127.0.0.1 and localhost; what is tested here is not the certificate.
          nodeOptions: { rejectUnauthorized: false },
        });
        const answer = await createClient(health.Health, transport).check({});
        assert.equal(answer.status, health.HealthCheckResponse_ServingStatus.SERVING);
      };

      it("drops a connection that never starts (no TLS handshake, no bytes) at the first-request deadline", async () => {
        const socket = net.connect(node.port, "127.0.0.1");
        socket.on("error", () => undefined);
        opened.push(socket);
        await once(socket, "connect");
        await socketClosedWithin(socket, WITHIN_MS);
        await normalClientAnswers();
      });

      it("drops HTTP/1.1 headers trickled a byte at a time at the first-request deadline", async () => {
        const socket = await connect("http/1.1");
        socket.write(`POST ${HEALTH_CHECK} HTTP/1.1\r\nHost: x\r\nX-Slow: `);
        const dribble = setInterval(() => socket.writable && socket.write("a"), 50);
        try {
          await socketClosedWithin(socket, WITHIN_MS);
        } finally {
          clearInterval(dribble);
        }
        await normalClientAnswers();
      });

      it("drops an HTTP/2 connection that sends its preface and settings but never opens a stream", async () => {
        const socket = await connect("h2");
        socket.write(HTTP2_PREFACE);
        socket.write(EMPTY_SETTINGS);
        // The node's SETTINGS are read and dropped, so that its close is seen.
        socket.resume();
        await socketClosedWithin(socket, WITHIN_MS);
        await normalClientAnswers();
      });

      it("closes an HTTP/1.1 keep-alive connection idle past the deadline after its answer", async () => {
        const socket = await connect("http/1.1");
        const body = '{"service":""}';
        socket.write(
          `POST ${HEALTH_CHECK} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        const [chunk] = (await once(socket, "data")) as [Buffer];
        assert.match(chunk.toString("latin1"), /^HTTP\/1\.1 200/);
        await socketClosedWithin(socket, WITHIN_MS);
        await normalClientAnswers();
      });

      it("closes an HTTP/2 connection idle past the deadline after its stream ended", async () => {
        const session = http2.connect(`${scheme}://127.0.0.1:${node.port}`, { rejectUnauthorized: false });
        session.on("error", () => undefined);
        opened.push(session);
        const stream = rawCall(session, HEALTH_CHECK, grpcFrame(health.HealthCheckRequestSchema, {}));
        stream.resume();
        const [trailers] = (await once(stream, "trailers")) as [http2.IncomingHttpHeaders];
        assert.equal(trailers["grpc-status"], "0");
        await within(once(session, "close"), WITHIN_MS, "the idle HTTP/2 connection");
        await normalClientAnswers();
      });
    });
  }
});
