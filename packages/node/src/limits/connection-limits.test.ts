// What one client may hold open on the port, mounted as an attacker would
// against a real node: connections past the per-address cap are refused, a
// connection that never completes a request (silent, or trickling header
// bytes) is dropped at its deadline, an idle keep-alive is closed, HTTP/2
// announces its stream cap; and a normal client from another address keeps
// working throughout. Addresses: the attacker is 127.0.0.1, the normal
// client ::1 (the node listens on both).
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { health } from "@parley/proto";
import { createLogger } from "../logger.js";
import { startNode, type RunningNode } from "../node.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Validators } from "../validation/validators.js";
import { clientAddress } from "./client-address.js";

const unusedValidators: Validators = {
  keyPackage: () => Promise.reject(new Error("not used here")),
  groupMessage: () => {
    throw new Error("not used here");
  },
  identityUpdate: () => Promise.reject(new Error("not used here")),
};

/** Resolves when the socket is closed by the other side, rejects if that takes longer than `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe("connection limits", { timeout: 30_000 }, () => {
  let node: RunningNode;
  const opened: net.Socket[] = [];
  const DEADLINE_MS = 300;

  before(async () => {
    node = await startNode({
      store: new SqliteStore({ path: ":memory:" }),
      validators: unusedValidators,
      logger: createLogger("silent"),
      host: "::",
      port: 0,
      rateLimits: false,
      connectionLimits: { maxConnectionsPerAddress: 4, firstRequestTimeoutMs: DEADLINE_MS, idleTimeoutMs: DEADLINE_MS, maxStreamsPerConnection: 7 },
    });
  });
  after(async () => {
    for (const socket of opened) socket.destroy();
    await node.stop();
  });

  async function connect(host: string): Promise<net.Socket> {
    const socket = net.connect(node.port, host);
    opened.push(socket);
    socket.on("error", () => undefined);
    // Connected, or already refused.
    await Promise.race([once(socket, "connect"), once(socket, "close")]);
    return socket;
  }

  const normalClientAnswers = async () => {
    const client = createClient(health.Health, createGrpcTransport({ baseUrl: `http://[::1]:${node.port}` }));
    const answer = await client.check({});
    assert.equal(answer.status, health.HealthCheckResponse_ServingStatus.SERVING);
  };

  it("keys IPv6 clients per /64 and mapped IPv4 as IPv4", () => {
    assert.equal(clientAddress("2001:db8:1:2:aaaa::1"), clientAddress("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    assert.notEqual(clientAddress("2001:db8:1:2::1"), clientAddress("2001:db8:1:3::1"));
    assert.equal(clientAddress("::ffff:10.0.0.1"), "10.0.0.1");
    assert.equal(clientAddress("10.0.0.1"), "10.0.0.1");
    assert.equal(clientAddress("::1"), clientAddress("0:0:0:0:0:0:0:1"));
  });

  it("refuses connections past the per-address cap, while another address is served", async () => {
    const held = await Promise.all([1, 2, 3, 4].map(() => connect("127.0.0.1")));
    const extra = await connect("127.0.0.1");
    await closedWithin(extra, DEADLINE_MS / 2);
    assert.ok(held.every((s) => !s.destroyed), "the first four stay open until their deadline");
    await normalClientAnswers();
    await Promise.all(held.map((s) => closedWithin(s, DEADLINE_MS * 10)));
  });

  it("drops a silent connection and one that trickles its headers, at the deadline", async () => {
    const silent = await connect("127.0.0.1");
    const trickle = await connect("127.0.0.1");
    const headers = "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    trickle.write(headers);
    // One byte every 50 ms: activity that an inactivity timeout would accept for ever.
    const dribble = setInterval(() => trickle.writable && trickle.write("a"), 50);
    try {
      await Promise.all([closedWithin(silent, DEADLINE_MS * 10), closedWithin(trickle, DEADLINE_MS * 10)]);
    } finally {
      clearInterval(dribble);
    }
    await normalClientAnswers();
  });

  it("closes an HTTP/1.1 keep-alive connection once it has been idle past the deadline", async () => {
    const socket = await connect("127.0.0.1");
    const body = '{"service":""}';
    socket.write(
      `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const [chunk] = (await once(socket, "data")) as [Buffer];
    assert.match(chunk.toString("latin1"), /^HTTP\/1\.1 200/);
    await closedWithin(socket, DEADLINE_MS * 10);
  });

  it("announces its HTTP/2 stream cap in its settings", async () => {
    const session = http2.connect(`http://[::1]:${node.port}`);
    try {
      const [settings] = (await once(session, "remoteSettings")) as [http2.Settings];
      assert.equal(settings.maxConcurrentStreams, 7);
    } finally {
      session.close();
    }
  });
});
