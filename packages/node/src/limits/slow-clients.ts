// Clients too slow to be served: one that does not read what it is sent
// (an HTTP/2 stream stalled by flow control, an HTTP/1.1 socket whose peer
// stopped reading) and one that sends a request body a byte at a time. Each
// holds a call in progress, which the connection deadlines
// (connection-limits.ts) do not cover, so every call is watched: a response
// with bytes waiting on the client that has not drained for
// writeStallTimeoutMs, or a request whose body (bidirectional and client
// streams excepted: theirs stays open by design) has not arrived whole
// within requestTimeoutMs, is cut off. HTTP/2 resets just that stream
// (ENHANCE_YOUR_CALM: the client sees RESOURCE_EXHAUSTED), HTTP/1.1 closes
// its connection, which has nothing else in progress.
//
// One sweep timer serves every call and runs only while calls are watched.
import type http from "node:http";
import http2 from "node:http2";

export interface SlowClientLimits {
  /** A response with bytes waiting on the client that have not drained for this long is cut off. */
  readonly writeStallTimeoutMs: number;
  /** A request body (not a client or bidirectional stream) must arrive whole within this of its headers. */
  readonly requestTimeoutMs: number;
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

interface WatchedCall {
  readonly request: NodeRequest;
  readonly response: NodeResponse;
  /** When the whole body must have arrived by, or undefined for an open request stream. */
  readonly bodyDue: number | undefined;
  /** Since when bytes have waited on the client without a drain. */
  stalledSince: number | undefined;
}

/** Bytes written and not yet taken by the client (HTTP/2: its stream window; HTTP/1.1: its socket). */
function waiting(response: NodeResponse): number {
  return "stream" in response ? response.stream.writableLength : (response.socket?.writableLength ?? 0);
}

function cut(response: NodeResponse): void {
  if ("stream" in response) response.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  else response.destroy();
}

export class CallWatch {
  readonly #limits: SlowClientLimits;
  readonly #now: () => number;
  readonly #calls = new Set<WatchedCall>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(limits: SlowClientLimits, nowMs: () => number = Date.now) {
    this.#limits = limits;
    this.#now = nowMs;
  }

  /** Watches a call until its response closes; `openRequest` for a client or bidirectional stream. */
  watch(request: NodeRequest, response: NodeResponse, openRequest: boolean): void {
    const now = this.#now();
    const call: WatchedCall = {
      request,
      response,
      bodyDue: openRequest ? undefined : now + this.#limits.requestTimeoutMs,
      stalledSince: undefined,
    };
    this.#calls.add(call);
    const drains = "stream" in response ? response.stream : response.socket;
    const onDrain = () => {
      call.stalledSince = undefined;
    };
    drains?.on("drain", onDrain);
    response.once("close", () => {
      drains?.off("drain", onDrain);
      this.#calls.delete(call);
      if (this.#calls.size === 0) this.#stopSweeping();
    });
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#tick()).unref();
  }

  /** Calls being watched (for metrics and tests). */
  get size(): number {
    return this.#calls.size;
  }

  /** Timers this watch holds: its sweep while it watches anything. */
  get timers(): number {
    return this.#sweeper === undefined ? 0 : 1;
  }

  #tick(): number {
    return Math.max(10, Math.min(this.#limits.writeStallTimeoutMs, this.#limits.requestTimeoutMs) / 4);
  }

  #sweep(): void {
    const now = this.#now();
    for (const call of this.#calls) {
      if (call.bodyDue !== undefined && !call.request.complete && now >= call.bodyDue) {
        cut(call.response);
        continue;
      }
      if (waiting(call.response) === 0) call.stalledSince = undefined;
      else call.stalledSince ??= now;
      if (call.stalledSince !== undefined && now - call.stalledSince >= this.#limits.writeStallTimeoutMs) cut(call.response);
    }
  }

  #stopSweeping(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
