// Shared pieces of the tests that attack a node on a real port: a node that
// listens on `::`, so that the attacker (127.0.0.1) and a normal client
// (::1) are different client addresses; validators that file a message
// under the group named by its first 16 bytes (the subject of these tests is
// the transport and the streams, not MLS); raw gRPC and HTTP/2 frames for
// clients that must misbehave below what a client library allows; polling
// for a state the node reaches in its own time.
import { randomBytes } from "node:crypto";
import type http2 from "node:http2";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mlsApi } from "@parley/proto";
import { createLogger } from "./logger.js";
import { startNode, type NodeOptions, type RunningNode } from "./node.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Validators } from "./validation/validators.js";

export const GROUP_ID_BYTES = 16;

export const groupByPrefix: Validators = {
  keyPackage: () => Promise.reject(new Error("not used here")),
  groupMessage: (data) => ({ groupId: data.slice(0, GROUP_ID_BYTES), isCommit: false }),
  identityUpdate: () => Promise.reject(new Error("not used here")),
};

/** A node on `::` with a free port, in memory, silent, without rate limits unless given. */
export function startAbuseNode(options: Partial<NodeOptions> = {}): Promise<RunningNode> {
  return startNode({
    store: new SqliteStore({ path: ":memory:" }),
    validators: groupByPrefix,
    logger: createLogger("silent"),
    host: "::",
    port: 0,
    rateLimits: false,
    ...options,
  });
}

export const newGroup = (): Uint8Array => randomBytes(GROUP_ID_BYTES);

/** A distinct message of `size` bytes to `group`. */
export function groupMessage(group: Uint8Array, size: number): Uint8Array {
  const data = randomBytes(Math.max(size, GROUP_ID_BYTES + 16));
  data.set(group, 0);
  return data;
}

export const v1 = (data: Uint8Array) => ({ version: { case: "v1" as const, value: { data } } });

/** The MLS API for the normal client, at ::1. */
export function normalClient(node: RunningNode): Client<typeof mlsApi.MlsApi> {
  return createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://[::1]:${node.port}` }));
}

/** The MLS API for the attacker, at 127.0.0.1. */
export function attackerClient(node: RunningNode): Client<typeof mlsApi.MlsApi> {
  return createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: `http://127.0.0.1:${node.port}` }));
}

/** Sends `count` messages of `size` bytes to `group`, `perCall` a call, all acknowledged. */
export async function publish(
  mls: Client<typeof mlsApi.MlsApi>,
  group: Uint8Array,
  count: number,
  size: number,
  perCall = 50,
): Promise<void> {
  for (let sent = 0; sent < count; sent += perCall) {
    const n = Math.min(perCall, count - sent);
    await mls.sendGroupMessages({ messages: Array.from({ length: n }, () => v1(groupMessage(group, size))) });
  }
}

/** One gRPC length-prefixed message. */
export function grpcFrame<S extends DescMessage>(schema: S, init: MessageInitShape<S>): Buffer {
  const bytes = toBinary(schema, create(schema, init));
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** Opens a raw gRPC call on an HTTP/2 session: the caller decides when (or whether) to read. */
export function rawCall(session: http2.ClientHttp2Session, path: string, body: Buffer, endRequest = true): http2.ClientHttp2Stream {
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  if (endRequest) stream.end(body);
  else stream.write(body);
  return stream;
}

/** The client connection preface (RFC 9113 section 3.4), which an empty SETTINGS frame must follow. */
export const HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** HTTP/2 frame types and flags (RFC 9113 section 6) a raw peer sends. */
export const H2 = { DATA: 0, HEADERS: 1, SETTINGS: 4, PING: 6, END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** One HTTP/2 frame (RFC 9113 section 4.1). */
export function http2Frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array()): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An empty SETTINGS frame: type 4 on stream 0. */
export const EMPTY_SETTINGS = http2Frame(H2.SETTINGS, 0, 0);

/**
 * A header block of literal fields, neither indexed nor Huffman-coded
 * (RFC 7541 section 6.2.2), pseudo-headers first as given: what an HPACK
 * decoder must take, with no table to keep. Names and values under 127 bytes.
 */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const literal = (text: string) => {
    const bytes = Buffer.from(text, "latin1");
    if (bytes.length >= 127) throw new Error("a literal of 127 bytes or more needs a longer length prefix");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  };
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0]), literal(name), literal(value)]));
}

export const SUBSCRIBE_GROUP_MESSAGES = "/xmtp.mls.api.v1.MlsApi/SubscribeGroupMessages";

export function subscribeGroupBody(group: Uint8Array): Buffer {
  return grpcFrame(mlsApi.SubscribeGroupMessagesRequestSchema, { filters: [{ groupId: group }] });
}

/** Resolves once `condition` holds, polling; rejects after `ms` with what `describe` says. */
export async function eventually(condition: () => boolean, ms: number, describe: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`not reached within ${ms} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves when the stream is closed, with the RST code it got (0 for a clean end). */
export function closed(stream: http2.ClientHttp2Stream): Promise<number> {
  if (stream.closed) return Promise.resolve(stream.rstCode ?? 0);
  return new Promise((resolve) => stream.once("close", () => resolve(stream.rstCode ?? 0)));
}
