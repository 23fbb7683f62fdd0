// The memory a node gives to answers in flight. One answer is bounded
// (RequestLimits.maxAnswerBytes, pages measured before they are read), but
// answers in flight at once are not: thirty-two queries of a page of 32 MiB
// hold gigabytes from the moment their records are read until the last
// byte is handed to the socket. So a call reserves what a large answer
// will cost before it reads it, and gives it back once the answer is out:
//
// - past `maxBytesPerAddress` for one client address (IPv6: one /64) the
//   call is refused at once with RESOURCE_EXHAUSTED (`node.rate_limited`):
//   one client's own backlog is its problem;
// - past `maxBytes` for the node the call waits, first come first served,
//   until earlier answers are out: a burst is slowed, never dropped; with
//   more than `maxWaiting` calls waiting it is UNAVAILABLE (`node.busy`).
//
// What is reserved is the buffer's footprint, not its size (FOOTPRINT):
// an answer of 25 MiB takes about 115 MiB at its peak. And an answer that
// is out is garbage, not free memory: the node's share of it is given back
// only once a full garbage collection has started after it (or after
// GARBAGE_WAIT_MS, should none come). Without that, a reader that drains
// answers as fast as they come had the node make them faster than V8
// collected them: 550 MiB of buffers in 200 ms (bench/attack/run.ts,
// query-amplification). An address's own share is given back at once: it
// bounds one client's unread backlog. Answers under `smallBytes` are not
// counted: a normal client's pages of text messages never wait behind an
// attacker's.
import { constants, PerformanceObserver, performance, type PerformanceEntry } from "node:perf_hooks";
import { Code, ConnectError, createContextKey, type ContextValues } from "@connectrpc/connect";
import { NodeError } from "../node-error.js";
import { clientAddressKey } from "./rate-limit.js";

export interface MemoryInFlightLimits {
  readonly maxBytes: number;
  readonly maxBytesPerAddress: number;
  readonly maxWaiting: number;
  readonly smallBytes: number;
}

/**
 * What a large buffer takes at its peak, per byte of it, as
 * bench/attack/footprint.ts measures it:
 * - an answer: its records as read, the encoder's buffer (protobuf-es
 *   doubles it as it grows, and finishes with a copy) and the framed
 *   answer that waits for the client's flow control: 5 to 7 times (more
 *   for small answers, whose buffers grow from small sizes);
 * - an inflated request: the inflated chunks and the message they are
 *   joined into: twice.
 */
export const FOOTPRINT = { answer: 6, inflated: 2 } as const;

export type Footprint = keyof typeof FOOTPRINT;

export const defaultMemoryInFlightLimits: MemoryInFlightLimits = {
  // One answer of the largest size (RequestLimits.maxAnswerBytes, 32 MiB:
  // its footprint is more, and is counted as all of this), or several
  // smaller ones: with the node's own 100 to 200 MiB, under 512 MiB.
  maxBytes: 160 * 1024 * 1024,
  // The same: one client may have the largest answer in flight, or any
  // number of smaller ones up to it; the first reservation of an address
  // is never refused for its size.
  maxBytesPerAddress: 160 * 1024 * 1024,
  maxWaiting: 1024,
  smallBytes: 64 * 1024,
};

/** How long a released answer's footprint is counted at most while no full collection comes. */
export const GARBAGE_WAIT_MS = 1000;

interface Garbage {
  /** performance.now() at its release. */
  readonly at: number;
  readonly bytes: number;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
}

export class MemoryInFlight {
  readonly #limits: MemoryInFlightLimits;
  #inUse = 0;
  readonly #byAddress = new Map<string, number>();
  readonly #waiting: Waiter[] = [];
  /** Released footprints not yet collected, oldest first; counted in #inUse. */
  readonly #garbage: Garbage[] = [];
  #collections: PerformanceObserver | undefined;
  #fallback: NodeJS.Timeout | undefined;

  constructor(limits: Partial<MemoryInFlightLimits> = {}) {
    this.#limits = { ...defaultMemoryInFlightLimits, ...limits };
  }

  /** Bytes reserved by answers in flight. */
  get inUse(): number {
    return this.#inUse;
  }

  /** The reservations of one call, given back together when its answer is out. */
  forCall(values: ContextValues): CallMemory {
    return new CallMemory(this, values.get(clientAddressKey));
  }

  /**
   * Reserves the footprint of `bytes` of `kind` for `address`; resolves
   * once it fits the node's memory.
   *
   * @returns what was counted, to be given back with release().
   * @throws NodeError `node.rate_limited` past the address's share, `node.busy` when too many wait
   */
  async reserve(address: string, bytes: number, kind: Footprint): Promise<number> {
    if (bytes < this.#limits.smallBytes) return 0;
    const counted = Math.min(bytes * FOOTPRINT[kind], this.#limits.maxBytes);
    const ofAddress = this.#byAddress.get(address) ?? 0;
    if (ofAddress + counted > this.#limits.maxBytesPerAddress && ofAddress > 0) {
      throw new NodeError("node.rate_limited", "too many large answers in flight for this client; read them first");
    }
    this.#byAddress.set(address, ofAddress + counted);
    if (this.#waiting.length === 0 && this.#inUse + counted <= this.#limits.maxBytes) {
      this.#inUse += counted;
      return counted;
    }
    if (this.#waiting.length >= this.#limits.maxWaiting) {
      this.#forget(address, counted);
      throw new NodeError("node.busy", "too many large answers waiting: try again");
    }
    await new Promise<void>((resolve) => this.#waiting.push({ bytes: counted, resolve }));
    return counted;
  }

  /** The answer is out: the address's share now, the node's once its garbage is collected. */
  release(address: string, counted: number): void {
    if (counted === 0) return;
    this.#forget(address, counted);
    this.#garbage.push({ at: performance.now(), bytes: counted });
    this.#watchCollections();
  }

  /** Gives back the footprints released before `startedAt`, then lets waiters in. */
  #collected(startedAt: number): void {
    while (this.#garbage.length > 0 && this.#garbage[0]!.at < startedAt) this.#inUse -= this.#garbage.shift()!.bytes;
    if (this.#garbage.length === 0) this.#stopWatching();
    // First come first served: the head waits until it fits, and those behind it too.
    for (let head = this.#waiting[0]; head !== undefined && this.#inUse + head.bytes <= this.#limits.maxBytes; head = this.#waiting[0]) {
      this.#waiting.shift();
      this.#inUse += head.bytes;
      head.resolve();
    }
  }

  #watchCollections(): void {
    if (this.#collections === undefined) {
      this.#collections = new PerformanceObserver((list) => {
        const full = list.getEntries().filter(isFullCollection);
        if (full.length > 0) this.#collected(Math.max(...full.map((entry) => entry.startTime)));
      });
      this.#collections.observe({ entryTypes: ["gc"] });
    }
    // Should no full collection come (an idle node collects rarely), the oldest waits GARBAGE_WAIT_MS at most.
    const oldest = this.#garbage[0];
    if (this.#fallback === undefined && oldest !== undefined) {
      this.#fallback = setTimeout(
        () => {
          this.#fallback = undefined;
          // The oldest goes whatever the timer's clock said (it may fire a little early by performance.now()).
          this.#collected(Math.max(performance.now() - GARBAGE_WAIT_MS, oldest.at + 1e-3));
          if (this.#garbage.length > 0) this.#watchCollections();
        },
        Math.max(0, oldest.at + GARBAGE_WAIT_MS - performance.now()),
      ).unref();
    }
  }

  #stopWatching(): void {
    this.#collections?.disconnect();
    this.#collections = undefined;
    clearTimeout(this.#fallback);
    this.#fallback = undefined;
  }

  #forget(address: string, counted: number): void {
    const left = (this.#byAddress.get(address) ?? 0) - counted;
    if (left > 0) this.#byAddress.set(address, left);
    else this.#byAddress.delete(address);
  }
}

export class CallMemory {
  #reserved = 0;
  #released = false;

  constructor(
    private readonly memory: MemoryInFlight,
    private readonly address: string,
  ) {}

  /**
   * Reserves the footprint of `bytes` (an answer before it is read, a request before it is inflated); see MemoryInFlight.
   *
   * @throws ConnectError Canceled when the call ended while it waited: nothing is to be read for it.
   */
  async reserve(bytes: number, kind: Footprint): Promise<void> {
    const counted = await this.memory.reserve(this.address, bytes, kind);
    if (this.#released) {
      this.memory.release(this.address, counted);
      throw new ConnectError("the call ended while it waited for memory", Code.Canceled);
    }
    this.#reserved += counted;
  }

  /** Once the answer is out (or the call failed): everything it reserved. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.memory.release(this.address, this.#reserved);
    this.#reserved = 0;
  }
}

/** The call's reservations, for its handler; none where the edge keeps no account (a bare router). */
export const callMemoryKey = createContextKey<CallMemory | undefined>(undefined, { description: "answer memory of the call" });

/** A mark-compact: it frees every buffer no longer reachable, old or young. */
function isFullCollection(entry: PerformanceEntry): boolean {
  // `detail` is Node's since 16; @types/node 20 does not declare it.
  const { detail } = entry as PerformanceEntry & { readonly detail?: { readonly kind?: number } | null };
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}
