// Per-client token buckets charged by the cost table (request-costs.ts), at
// three moments of a call: its own token before any byte of its body is read
// (Connect-ES's request gate), its bytes as they arrive, before they are
// decoded (the edge meters the body), and its items once decoded (an
// interceptor, before any handler works). A client out of tokens is refused
// at the first moment it cannot pay, with RESOURCE_EXHAUSTED, and the rest of
// its body is not read. Clients are keyed by clientAddress (IPv6 per /64).
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextKey, type ConnectError, type ContextValues, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { NodeError, toConnectError } from "../node-error.js";
import { byteTokens, costClassOf, openingTokens, workOf, type CostClass } from "./request-costs.js";
import { TokenBuckets, type BucketLimit } from "./token-buckets.js";

export interface RateLimits {
  readonly publish: BucketLimit;
  readonly default: BucketLimit;
  /**
   * Bytes a client address may have the node store (messages, welcomes,
   * key packages, commit log entries), in bytes: a quota over a day, on top
   * of the publish rate. Default: defaultRateLimits.storage.
   */
  readonly storage?: BucketLimit;
  /**
   * Streams a client address may open, on top of their tokens of the
   * default bucket: the default bucket's burst alone would let one address
   * open a thousand streams at once. Default: defaultRateLimits.streams.
   */
  readonly streams?: BucketLimit;
}

const GIB = 1024 * 1024 * 1024;

/** The reference node's regular (non-priority) limits. */
export const defaultRateLimits: RateLimits = {
  publish: { capacity: 3000, refillPerMinute: 600 },
  default: { capacity: 20_000, refillPerMinute: 4000 },
  // 2 GiB a day per address, all of it at once if need be: far above what
  // people write (text, reactions, remote attachments' keys), and what bounds
  // what one address can make the node keep. xmtp-node-go has no such quota.
  storage: { capacity: 2 * GIB, refillPerMinute: (2 * GIB) / (24 * 60) },
  // A client opens a few (libxmtp: welcomes, all messages, a Subscribe) and
  // opens them again when its network drops; 200 at once and 200 a minute
  // leave room for many clients behind one NAT, not for a flood of streams
  // opened and reset at once (bench/attack, stream-churn). xmtp-node-go
  // charges a stream one token of its default bucket.
  streams: { capacity: 200, refillPerMinute: 200 },
};

/**
 * Charges the call's client more tokens for work its handler is about to
 * do (an answer's bytes, before they are read). Set at the gate; free when
 * limits are off.
 *
 * @throws NodeError `node.rate_limited` when the client's bucket is short.
 */
export const chargeKey = createContextKey<(tokens: number, what: string) => void>(() => undefined, { description: "charge for work" });

/** The client's address, as the transport saw it. */
export const clientAddressKey = createContextKey<string>("unknown", { description: "client address" });

/** The bytes of a call's body received so far; set per call by {@link RateLimiter.meterBody}. */
const receivedKey = createContextKey<{ bytes: number } | undefined>(undefined, { description: "request bytes received" });

export interface RateLimiterOptions {
  readonly nowMs?: () => number;
  /**
   * Called with each refusal before the body is decoded (at the gate or by
   * the meter), which no interceptor sees to log.
   */
  readonly onRefused?: (method: DescMethod, error: NodeError) => void;
}

export class RateLimiter {
  readonly #buckets: Record<CostClass, TokenBuckets>;
  readonly #storage: TokenBuckets;
  readonly #streams: TokenBuckets;
  readonly #onRefused: RateLimiterOptions["onRefused"];

  constructor(limits: RateLimits, options: RateLimiterOptions = {}) {
    const { nowMs } = options;
    this.#buckets = { publish: new TokenBuckets(limits.publish, nowMs), default: new TokenBuckets(limits.default, nowMs) };
    this.#storage = new TokenBuckets(limits.storage ?? (defaultRateLimits.storage as BucketLimit), nowMs);
    this.#streams = new TokenBuckets(limits.streams ?? (defaultRateLimits.streams as BucketLimit), nowMs);
    this.#onRefused = options.onRefused;
  }

  /** @throws NodeError `node.rate_limited` when the address's storage quota is short of `bytes`. */
  #chargeStorage(values: ContextValues, bytes: number): void {
    if (bytes <= 0) return;
    if (!this.#storage.take(values.get(clientAddressKey), bytes)) {
      throw new NodeError("node.rate_limited", `${bytes} bytes to store exceed this client's storage quota`);
    }
  }

  /** A refusal below the interceptors: reported, and sent with its own status. */
  #refuse(method: DescMethod, error: unknown): ConnectError {
    if (error instanceof NodeError) this.#onRefused?.(method, error);
    return toConnectError(error);
  }

  /** @throws NodeError `node.rate_limited` when the client's bucket is short. */
  #charge(methodName: string, values: ContextValues, tokens: number, what: string): void {
    if (tokens <= 0) return;
    const costClass = costClassOf(methodName);
    if (!this.#buckets[costClass].take(values.get(clientAddressKey), tokens)) {
      throw new NodeError("node.rate_limited", `${what} exceeds the ${costClass} rate limit`);
    }
  }

  /**
   * The call's own token, before its body is read (Connect-ES's
   * `requestGate`, which sends a thrown ConnectError as the call's status).
   */
  readonly gate = (context: HandlerContext): void => {
    try {
      if (context.method.methodKind !== "unary" && !this.#streams.take(context.values.get(clientAddressKey), 1)) {
        throw new NodeError("node.rate_limited", "this client opens streams faster than the stream limit allows");
      }
      this.#charge(context.method.name, context.values, openingTokens(context.method.methodKind), "the call");
    } catch (error) {
      throw this.#refuse(context.method, error);
    }
    context.values.set(chargeKey, (tokens, what) => this.#charge(context.method.name, context.values, tokens, what));
  };

  /**
   * A call's body, each chunk paid for as it arrives and before anything
   * decodes it; when the client cannot pay, the body ends with
   * RESOURCE_EXHAUSTED and is not read further.
   */
  readonly meterBody = (method: DescMethod, values: ContextValues, body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> => {
    const received = { bytes: 0 };
    values.set(receivedKey, received);
    const charge = (bytes: number) => {
      const before = byteTokens(received.bytes);
      received.bytes += bytes;
      this.#charge(method.name, values, byteTokens(received.bytes) - before, `${received.bytes} bytes`);
    };
    const refuse = (error: unknown) => this.#refuse(method, error);
    return (async function* () {
      for await (const chunk of body) {
        try {
          charge(chunk.length);
        } catch (error) {
          throw refuse(error);
        }
        yield chunk;
      }
    })();
  };

  /**
   * The items of each decoded request message, and the stored bytes that
   * exceed what arrived (a compressed body), before the handler works.
   */
  interceptor(): Interceptor {
    const chargeWork = (methodName: string, values: ContextValues, message: unknown) => {
      const work = workOf(message);
      const received = values.get(receivedKey)?.bytes ?? 0;
      const inflated = byteTokens(Math.max(received, work.storedBytes)) - byteTokens(received);
      this.#charge(methodName, values, work.itemTokens + inflated, "the request");
      this.#chargeStorage(values, work.storedBytes);
    };
    return (next) => async (request) => {
      const { name } = request.method;
      if (!request.stream) {
        chargeWork(name, request.contextValues, request.message);
        return next(request);
      }
      const messages = request.message;
      return next({
        ...request,
        message: (async function* () {
          for await (const message of messages) {
            chargeWork(name, request.contextValues, message);
            yield message;
          }
        })(),
      });
    };
  }
}
