// The node's one port: gRPC over cleartext HTTP/2 (what libxmtp speaks),
// gRPC-web and Connect over HTTP/1.1 or HTTP/2, all through Connect-ES. With
// a certificate, TLS with ALPN chooses the HTTP version; without, the first
// bytes of a connection do (the HTTP/2 preface or not).
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { createConnectRouter, createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createNodeHandler, type RequestIntake } from "./connect-adapter.js";
import { sendStreamHeadersEarly } from "./early-stream-headers.js";
import { overCallCapKey } from "./limits/call-cap.js";
import { clientAddress } from "./limits/client-address.js";
import { ConnectionGuard, type ConnectionLimits, type GuardedConnection } from "./limits/connection-limits.js";
import { KeepAlive, tcpKeepAlive } from "./limits/keep-alive.js";
import { clientAddressKey } from "./limits/rate-limit.js";
import { ResetFlood } from "./limits/reset-flood.js";
import { StreamPacer } from "./limits/stream-pacing.js";
import { CallWatch } from "./limits/slow-clients.js";

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Largest request message of a method the intake does not size, in bytes. */
  readonly readMaxBytes: number;
  /** Each method's request size, and what runs before and as a body is read. */
  readonly intake?: RequestIntake;
  /** Connections per client address, deadlines, HTTP/2 streams per connection. */
  readonly connectionLimits: ConnectionLimits;
  /** Called for each request refused before any interceptor ran: a body that is not protobuf. */
  readonly onMalformedRequest?: (requestPath: string) => void;
}

/** What a listener holds open now (for metrics and tests). */
export interface ListenerLoad {
  readonly connections: number;
  /** Calls in progress (HTTP/2 streams, HTTP/1.1 requests). */
  readonly calls: number;
  /** Client addresses with a connection or call open. */
  readonly addresses: number;
  /** Deadline timers running: per connection, the slow-client sweep, and keep-alive per HTTP/2 connection with streams open. */
  readonly timers: number;
}

export interface Listener {
  readonly port: number;
  load(): ListenerLoad;
  /** Stops accepting, lets open requests finish, then resolves. */
  close(): Promise<void>;
}

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** The paths of client and bidirectional streams: their request body stays open by design. */
function openRequestPaths(routes: (router: ConnectRouter) => void): Set<string> {
  const router = createConnectRouter();
  routes(router);
  return new Set(
    router.handlers
      .filter((h) => h.method.methodKind === "client_streaming" || h.method.methodKind === "bidi_streaming")
      .map((h) => h.requestPath),
  );
}

/**
 * A stream that ended without its answer: reset by the client or cut by
 * the node (a reset code other than NO_ERROR, which connect-node closes
 * every answered stream with), or answered RESOURCE_EXHAUSTED (refused for
 * a limit, in its headers or its trailers).
 */
function endedUnanswered(stream: http2.ServerHttp2Stream): boolean {
  if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) return true;
  // A stream that closes before the node sent anything has no sentHeaders,
  // whatever @types/node says: reading them would throw from a 'close' listener.
  const sent = stream.sentHeaders as http2.OutgoingHttpHeaders | undefined;
  const status = stream.sentTrailers?.["grpc-status"] ?? sent?.["grpc-status"];
  return String(status) === "8";
}

export async function listen(
  routes: (router: ConnectRouter) => void,
  interceptors: Interceptor[],
  options: ListenOptions,
): Promise<Listener> {
  const adapter = createNodeHandler({
    routes,
    interceptors,
    readMaxBytes: options.readMaxBytes,
    ...(options.intake ? { intake: options.intake } : {}),
    contextValues: (request) =>
      createContextValues()
        .set(clientAddressKey, clientAddress(request.socket?.remoteAddress))
        .set(overCallCapKey, overCap.has(request)),
    ...(options.onMalformedRequest ? { onMalformedRequest: options.onMalformedRequest } : {}),
  });
  const guard = new ConnectionGuard(options.connectionLimits);
  const resetFlood = new ResetFlood(options.connectionLimits);
  const watch = new CallWatch(options.connectionLimits);
  const keepAlive = new KeepAlive(options.connectionLimits);
  const openRequests = openRequestPaths(routes);
  const overCap = new WeakSet<NodeRequest>();
  // Requests and HTTP/2 streams find their connection by the TCP peer
  // (address and port): a stream's socket is HTTP/2's proxy of the
  // connection's, and a TLS socket wraps the one that was accepted.
  const connections = new Map<string, GuardedConnection>();
  const peerOf = (socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }) =>
    `${socket.remoteAddress ?? ""}|${socket.remotePort ?? ""}`;
  const accept = (socket: net.Socket): GuardedConnection | undefined => {
    if (resetFlood.blocked(socket.remoteAddress)) {
      socket.destroy();
      return undefined;
    }
    const connection = guard.admit(socket);
    if (connection === undefined) return undefined;
    tcpKeepAlive(socket, options.connectionLimits);
    const peer = peerOf(socket);
    connections.set(peer, connection);
    socket.once("close", () => connections.delete(peer));
    return connection;
  };
  /** Connections past the allowance, closed on the next turn: their new streams are refused at once till then. */
  const cut = new WeakSet<http2.Http2Session>();
  /** A stream of `session` ended unanswered: past the allowance, the connection goes. */
  const abandoned = (session: http2.Http2Session, remote: string | undefined) => {
    if (cut.has(session) || !resetFlood.abandoned(session, remote)) return;
    cut.add(session);
    // Not from inside a stream's own close: nghttp2 is still in its callbacks there.
    setImmediate(() => {
      if (!session.destroyed) session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    });
  };
  const pacer = new StreamPacer();
  const handle = (request: NodeRequest, response: NodeResponse) => {
    if (!("stream" in response)) {
      serve(request, response);
      return;
    }
    const { stream } = response;
    const { session } = stream;
    // Reset in the same read as it was opened (HTTP/2 rapid reset: node
    // hands a stream over only once the read is done): nothing is to be
    // answered, and none of the call's machinery is built for it. It was
    // counted as its session handed it over (trackSession).
    if (session === undefined || stream.closed || stream.destroyed) return;
    // Read now: once the stream is closed its socket may be gone.
    const remote = session.socket?.remoteAddress;
    pacer.pace(session, () => {
      if (cut.has(session)) {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        return;
      }
      if (stream.closed || stream.destroyed) {
        // Reset while it waited for its turn.
        if (!session.destroyed) abandoned(session, remote);
        return;
      }
      sendStreamHeadersEarly(request as http2.Http2ServerRequest, response);
      response.once("close", () => {
        if (session.destroyed || !endedUnanswered(stream)) return;
        abandoned(session, remote);
      });
      serve(request, response);
    });
  };
  /** A request the node answers: counted against its connection, watched, and handed to Connect. */
  const serve = (request: NodeRequest, response: NodeResponse) => {
    const connection = connections.get(peerOf(request.socket));
    if (connection !== undefined) {
      if (!connection.begin("stream" in response)) overCap.add(request);
      // HTTP/1.1 on a stopping node: this response ends the connection.
      if (closing && !("stream" in response)) response.shouldKeepAlive = false;
      response.once("close", () => connection.end());
    }
    watch.watch(request, response, openRequests.has(request.url?.split("?", 2)[0] ?? ""));
    adapter(request, response);
  };
  let closing = false;

  const limits = options.connectionLimits;
  const h2Settings: http2.Settings = { maxConcurrentStreams: limits.maxStreamsPerConnection };
  const sessions = new Set<http2.Http2Session>();
  const trackSession = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    const remote = session.socket?.remoteAddress;
    // A stream closed before it is handed over has lost its session; here it still has one.
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      if ((stream.closed || stream.destroyed) && !session.destroyed) abandoned(session, remote);
    });
    keepAlive.watch(session);
    session.once("close", () => sessions.delete(session));
  };

  let server: net.Server;
  let h2c: http2.Http2Server | undefined;
  let h1: http.Server | undefined;
  if (options.tls) {
    const secure = http2.createSecureServer(
      { ...options.tls, allowHTTP1: true, handshakeTimeout: limits.firstRequestTimeoutMs, settings: h2Settings },
      handle,
    );
    secure.on("connection", (socket: net.Socket) => accept(socket));
    secure.on("session", trackSession);
    server = secure;
  } else {
    const cleartext = http2.createServer({ settings: h2Settings }, handle);
    const plain = http.createServer(handle);
    cleartext.on("session", trackSession);
    h2c = cleartext;
    h1 = plain;
    server = net.createServer((socket) => {
      if (accept(socket) === undefined) return;
      socket.once("readable", function route() {
        const head = socket.read(HTTP2_PREFACE.length) as Buffer | null ?? (socket.read() as Buffer | null);
        if (head === null) {
          socket.once("readable", route);
          return;
        }
        socket.unshift(head);
        const isHttp2 = HTTP2_PREFACE.subarray(0, head.length).equals(head.subarray(0, HTTP2_PREFACE.length));
        (isHttp2 ? cleartext : plain).emit("connection", socket);
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    load() {
      const { connections, calls, addresses, timers } = guard.load;
      return { connections, calls, addresses, timers: timers + watch.timers + keepAlive.timers };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      closing = true;
      // HTTP/2: GOAWAY, then open streams finish. Every connection with
      // nothing in progress (an idle keep-alive, a silent client) ends now,
      // a busy one after its last response. (http.Server's own
      // closeIdleConnections cannot: the cleartext HTTP/1 server never
      // listens, so it tracks nothing.)
      for (const session of sessions) session.close();
      guard.closeAll();
      h2c?.close();
      h1?.close();
      const forced = setTimeout(() => {
        for (const session of sessions) session.destroy();
        guard.destroyAll();
      }, 10_000);
      forced.unref();
      await closed;
      clearTimeout(forced);
    },
  };
}
