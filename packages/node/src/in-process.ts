// A node in this process without a port: the services, interceptors and edge
// of startNode (node.ts, connect-adapter.ts), reached through memory instead
// of a socket, for tests whose subject is not the wire and for a node
// embedded beside its clients. What only the wire has stays with the port
// (server.ts): HTTP/2 and HTTP/1.1 framing, gRPC stream headers sent early
// (early-stream-headers.ts), the TCP peer as the client's address. Here every
// caller has one address, as clients on one machine share 127.0.0.1.
import { Code, ConnectError, createContextValues, type Transport } from "@connectrpc/connect";
import {
  createUniversalHandlerClient,
  validateReadWriteMaxBytes,
  type UniversalClientFn,
  type UniversalHandler,
  type UniversalServerRequest,
} from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import { createNodeHandlers } from "./connect-adapter.js";
import { logMalformedRequest } from "./error-interceptor.js";
import { clientAddressKey } from "./limits/rate-limit.js";
import { createNodeServices, type NodeServiceOptions } from "./node.js";

export interface InProcessNodeOptions extends NodeServiceOptions {
  /** The address per-IP limits see for every call. Default "in-process". */
  readonly clientAddress?: string;
}

export interface InProcessNode {
  /**
   * The base URL of transports on {@link InProcessNode.httpClient}: it names
   * no host (`.invalid`, RFC 6761 section 6.4); only its path is routed.
   */
  readonly url: string;
  /**
   * The node's HTTP in memory, for Connect-ES's protocol `createTransport`
   * functions and @parley/client's `httpClient` option.
   */
  readonly httpClient: UniversalClientFn;
  /** gRPC to this node in memory, as libxmtp and @parley/client speak it on the wire. */
  readonly transport: Transport;
  /**
   * Refuses new calls (UNAVAILABLE), ends open streams, lets calls in
   * progress finish, then closes the store, as RunningNode.stop.
   */
  stop(): Promise<void>;
}

/** How long stop() waits for calls in progress, as the port waits before it cuts connections. */
const STOP_GRACE_MS = 10_000;

export function createInProcessNode(options: InProcessNodeOptions): InProcessNode {
  const { store, logger } = options;
  const { routes, interceptors, readMaxBytes, intake, shutdown } = createNodeServices(options);
  const handlers = createNodeHandlers({
    routes,
    interceptors,
    readMaxBytes,
    intake,
    onMalformedRequest: (requestPath) => logMalformedRequest(logger, requestPath),
  });
  const address = options.clientAddress ?? "in-process";
  const url = "http://in-process.invalid";

  let open = 0;
  let idle: (() => void) | undefined;
  let stopping: Promise<void> | undefined;
  const calls = {
    begin(): void {
      if (stopping) throw new ConnectError("the node is stopping", Code.Unavailable);
      open++;
    },
    end(): void {
      if (--open === 0) idle?.();
    },
  };

  const httpClient = inMemoryHttpClient(handlers, address, calls);
  const transport = createTransport({
    baseUrl: url,
    httpClient,
    useBinaryFormat: true,
    interceptors: [],
    acceptCompression: [],
    sendCompression: null,
    ...validateReadWriteMaxBytes(undefined, undefined, undefined),
  });
  logger.info("node in process");

  return {
    url,
    httpClient,
    transport,
    stop() {
      stopping ??= (async () => {
        logger.info("node stopping");
        shutdown.abort();
        if (open > 0) {
          await new Promise<void>((resolve) => {
            idle = resolve;
            setTimeout(resolve, STOP_GRACE_MS).unref();
          });
        }
        await store.close();
        logger.info("node stopped");
      })();
      return stopping;
    },
  };
}

interface CallCount {
  /** @throws ConnectError UNAVAILABLE once the node is stopping. */
  begin(): void;
  end(): void;
}

/**
 * Connect-ES's in-memory HTTP client on the node's handlers, with two
 * additions: each call carries the client address, and a response's
 * trailers are passed on when its body ends. Connect-ES copies them when the
 * response starts, which the Connect protocol doesn't mind (its end of
 * stream is a body frame), but a gRPC stream that fails after its first
 * message sets its status in the trailers later, and without this the
 * client would read a clean end.
 */
function inMemoryHttpClient(handlers: readonly UniversalHandler[], address: string, calls: CallCount): UniversalClientFn {
  const byPath = new Map(handlers.map((handler) => [handler.requestPath, handler]));
  return async (request) => {
    calls.begin();
    try {
      const handler = byPath.get(new URL(request.url).pathname);
      let liveTrailer: Headers | undefined;
      const recording = handler && [
        Object.assign(async (serverRequest: UniversalServerRequest) => {
          const answer = await handler({ ...serverRequest, contextValues: createContextValues().set(clientAddressKey, address) });
          liveTrailer = answer.trailer;
          return answer;
        }, handler),
      ];
      // No handler: Connect-ES's client answers UNIMPLEMENTED, as a 404 does on the wire.
      const response = await createUniversalHandlerClient(recording ?? [])(request);
      const { trailer } = response;
      async function* body() {
        try {
          yield* response.body;
          liveTrailer?.forEach((value, key) => trailer.set(key, value));
        } finally {
          calls.end();
        }
      }
      return { ...response, body: body() };
    } catch (error) {
      calls.end();
      throw error;
    }
  };
}
