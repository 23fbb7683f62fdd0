// A running node: the store, the services on one port, and an orderly stop.
// What the node serves (services, interceptors, limits) is put together once
// here, for the port (server.ts) and for a node in memory (in-process.ts).
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { health, identityApi, mlsApi } from "@parley/proto";
import type { RequestIntake } from "./connect-adapter.js";
import { errorInterceptor, logIntakeRefusal, logMalformedRequest } from "./error-interceptor.js";
import { callCapInterceptor } from "./limits/call-cap.js";
import { defaultConnectionLimits, type ConnectionLimits } from "./limits/connection-limits.js";
import { defaultRateLimits, RateLimiter, type RateLimits } from "./limits/rate-limit.js";
import { FRAMING_BYTES, requestSizeLimits } from "./limits/request-size.js";
import type { Logger } from "./logger.js";
import { listen, type Listener, type ListenerLoad } from "./server.js";
import { createHealthService } from "./services/health-service.js";
import { createIdentityService, type SmartContractWalletVerifier } from "./services/identity-service.js";
import { defaultRequestLimits, type RequestLimits } from "./services/limits.js";
import { createMlsService } from "./services/mls-service.js";
import { MemoryInFlight, type MemoryInFlightLimits } from "./limits/memory-in-flight.js";
import { startRetention, type Retention } from "./store/retention.js";
import type { Store } from "./store/store.js";
import { defaultStreamLimits, type StreamLimits } from "./streams/backlog.js";
import { Notifier } from "./streams/notifier.js";
import type { Validators } from "./validation/validators.js";

/** What a node serves, on a port or in memory. */
export interface NodeServiceOptions {
  readonly store: Store;
  readonly validators: Validators;
  readonly logger: Logger;
  /** Per-IP limits; `false` turns them off (tests, trusted networks). */
  readonly rateLimits?: RateLimits | false;
  readonly requestLimits?: Partial<RequestLimits>;
  /** How far a subscriber may fall behind, Subscribe's queue and frames (defaultStreamLimits for what is not given). */
  readonly streamLimits?: Partial<StreamLimits>;
  readonly scwVerifier?: SmartContractWalletVerifier;
  /** Run inside the node's own (errors, limits), e.g. for metrics or capture. */
  readonly interceptors?: readonly Interceptor[];
  /** The node's memory for large answers in flight (limits/memory-in-flight.ts; defaults for what is not given). */
  readonly memoryInFlight?: Partial<MemoryInFlightLimits>;
  /** How long group messages and welcomes are kept; everything for ever when absent (store/retention.ts). */
  readonly retention?: Retention;
}

export interface NodeOptions extends NodeServiceOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 5556; 0 picks a free port. */
  readonly port?: number;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** What one client may hold open on the port (defaultConnectionLimits for what is not given). */
  readonly connectionLimits?: Partial<ConnectionLimits>;
}

/** The services with their interceptors, before anything carries them. */
export interface NodeServices {
  readonly routes: (router: ConnectRouter) => void;
  /** The node's own first (errors, limits), then the caller's. */
  readonly interceptors: Interceptor[];
  /** Largest request message the router reads of a method the intake does not size. */
  readonly readMaxBytes: number;
  /** Each method's request size, and the rate limits charged before and as its body is read. */
  readonly intake: RequestIntake;
  /** Aborted on stop: open streams end. */
  readonly shutdown: AbortController;
  /** Topics some stream listens to (for metrics and tests). */
  readonly subscribedTopics: () => number;
}

export function createNodeServices(options: NodeServiceOptions): NodeServices {
  const limits: RequestLimits = { ...defaultRequestLimits, ...options.requestLimits };
  const streamLimits: StreamLimits = { ...defaultStreamLimits, ...options.streamLimits };
  const shutdown = new AbortController();
  const notifier = new Notifier();
  const { store, validators, logger } = options;

  const routes = (router: ConnectRouter) => {
    router.service(
      mlsApi.MlsApi,
      createMlsService({ store, validators, notifier, limits, streamLimits, shutdown: shutdown.signal }),
    );
    router.service(
      identityApi.IdentityApi,
      createIdentityService({
        store,
        validators,
        limits,
        ...(options.scwVerifier ? { scwVerifier: options.scwVerifier } : {}),
      }),
    );
    router.service(health.Health, createHealthService(shutdown.signal));
  };
  if (options.retention) startRetention(store, options.retention, logger, shutdown.signal);
  const rateLimits = options.rateLimits ?? defaultRateLimits;
  const limiter = rateLimits
    ? new RateLimiter(rateLimits, {
        onRefused: (method, error) => logIntakeRefusal(logger, `${method.parent.typeName}/${method.name}`, error),
      })
    : undefined;
  const interceptors = [
    errorInterceptor(logger),
    callCapInterceptor(),
    ...(limiter ? [limiter.interceptor()] : []),
    ...(options.interceptors ?? []),
  ];
  const intake: RequestIntake = {
    maxRequestBytes: requestSizeLimits(limits),
    memory: new MemoryInFlight(options.memoryInFlight),
    ...(limiter ? { gate: limiter.gate, meterBody: limiter.meterBody } : {}),
  };
  return { routes, interceptors, readMaxBytes: FRAMING_BYTES, intake, shutdown, subscribedTopics: () => notifier.topicCount };
}

/** What a running node holds now: every count returns to 0 once its clients are gone. */
export interface NodeLoad extends ListenerLoad {
  /** Topics with at least one stream listening. */
  readonly subscribedTopics: number;
}

export interface RunningNode {
  readonly port: number;
  /** http://host:port (https with TLS). */
  readonly url: string;
  /**
   * Stops accepting calls, ends open streams, lets calls in progress finish,
   * then closes the store. Everything acknowledged was already committed.
   */
  stop(): Promise<void>;
  /** For metrics, and for tests that check abuse leaves nothing behind. */
  load(): NodeLoad;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const host = options.host ?? "127.0.0.1";
  const { store, logger } = options;
  const { routes, interceptors, readMaxBytes, intake, shutdown, subscribedTopics } = createNodeServices(options);

  const listener: Listener = await listen(routes, interceptors, {
    host,
    port: options.port ?? 5556,
    readMaxBytes,
    intake,
    connectionLimits: { ...defaultConnectionLimits, ...options.connectionLimits },
    onMalformedRequest: (requestPath) => logMalformedRequest(logger, requestPath),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const scheme = options.tls ? "https" : "http";
  const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${listener.port}`;
  logger.info({ url, tls: Boolean(options.tls) }, "node listening");

  let stopping: Promise<void> | undefined;
  return {
    port: listener.port,
    url,
    load: () => ({ ...listener.load(), subscribedTopics: subscribedTopics() }),
    stop() {
      stopping ??= (async () => {
        logger.info("node stopping");
        shutdown.abort();
        await listener.close();
        await store.close();
        logger.info("node stopped");
      })();
      return stopping;
    },
  };
}
