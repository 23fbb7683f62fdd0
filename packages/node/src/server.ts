// The node's one port: gRPC over cleartext HTTP/2 (what libxmtp speaks),
// gRPC-web and Connect over HTTP/1.1 or HTTP/2, all through Connect-ES. With
// a certificate, TLS with ALPN chooses the HTTP version; without, the first
// bytes of a connection do (the HTTP/2 preface or not).
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createNodeHandler } from "./connect-adapter.js";
import { sendStreamHeadersEarly } from "./early-stream-headers.js";
import { clientAddressKey } from "./limits/rate-limit.js";

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Largest request body, in bytes. */
  readonly readMaxBytes: number;
  /** Called for each request refused before any interceptor ran: a body that is not protobuf. */
  readonly onMalformedRequest?: (requestPath: string) => void;
}

export interface Listener {
  readonly port: number;
  /** Stops accepting, lets open requests finish, then resolves. */
  close(): Promise<void>;
}

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export async function listen(
  routes: (router: ConnectRouter) => void,
  interceptors: Interceptor[],
  options: ListenOptions,
): Promise<Listener> {
  const adapter = createNodeHandler({
    routes,
    interceptors,
    readMaxBytes: options.readMaxBytes,
    contextValues: (request) =>
      createContextValues().set(clientAddressKey, request.socket?.remoteAddress ?? "unknown"),
    ...(options.onMalformedRequest ? { onMalformedRequest: options.onMalformedRequest } : {}),
  });
  // HTTP/1.1 connections and their requests in progress: on close, an idle
  // keep-alive connection is ended at once and a busy one once its last
  // response is sent. (http.Server.closeIdleConnections cannot do it: the
  // cleartext HTTP/1 server never listens itself, so it tracks nothing.)
  const http1 = new Map<net.Socket, number>();
  let closing = false;
  const endIfIdle = (socket: net.Socket) => {
    if (closing && (http1.get(socket) ?? 0) === 0) socket.destroy();
  };
  const handle = (request: NodeRequest, response: NodeResponse) => {
    if ("stream" in response) {
      sendStreamHeadersEarly(request as http2.Http2ServerRequest, response);
    } else {
      const socket = request.socket;
      if (!http1.has(socket)) socket.once("close", () => http1.delete(socket));
      http1.set(socket, (http1.get(socket) ?? 0) + 1);
      if (closing) response.shouldKeepAlive = false;
      response.once("close", () => {
        http1.set(socket, (http1.get(socket) ?? 1) - 1);
        endIfIdle(socket);
      });
    }
    adapter(request, response);
  };

  const sessions = new Set<http2.Http2Session>();
  const sockets = new Set<net.Socket>();
  /** Sockets whose first bytes chose HTTP/1 or HTTP/2. */
  const routed = new WeakSet<net.Socket>();
  const trackSession = (session: http2.Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  };

  let server: net.Server;
  let h2c: http2.Http2Server | undefined;
  let h1: http.Server | undefined;
  if (options.tls) {
    const secure = http2.createSecureServer({ ...options.tls, allowHTTP1: true }, handle);
    secure.on("session", trackSession);
    server = secure;
  } else {
    const cleartext = http2.createServer({}, handle);
    const plain = http.createServer(handle);
    cleartext.on("session", trackSession);
    h2c = cleartext;
    h1 = plain;
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.once("readable", function route() {
        const head = socket.read(HTTP2_PREFACE.length) as Buffer | null ?? (socket.read() as Buffer | null);
        if (head === null) {
          socket.once("readable", route);
          return;
        }
        socket.unshift(head);
        routed.add(socket);
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
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      closing = true;
      // HTTP/2: GOAWAY, then open streams finish. HTTP/1: idle keep-alives
      // end now, busy ones after their response.
      for (const session of sessions) session.close();
      for (const socket of http1.keys()) endIfIdle(socket);
      // Connected but silent: not yet handed to either HTTP server.
      for (const socket of sockets) if (!routed.has(socket)) socket.destroy();
      h2c?.close();
      h1?.close();
      const forced = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, 10_000);
      forced.unref();
      await closed;
      clearTimeout(forced);
    },
  };
}
