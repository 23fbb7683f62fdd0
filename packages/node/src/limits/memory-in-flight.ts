// The memory a node gives to answers in flight. One answer is bounded
// (RequestLimits.maxAnswerBytes, pages measured before they are read), but
// answers in flight at once are not: thirty-two queries of a page of 32 MiB
// hold a gigabyte from the moment their records are read until the last
// byte is handed to the socket. So a call reserves the bytes of a large
// answer before it reads them, and gives them back once the answer is out:
//
// - past `maxBytesPerAddress` for one client address (IPv6: one /64) the
//   call is refused at once with RESOURCE_EXHAUSTED (`node.rate_limited`):
//   one client's own backlog is its problem;
// - past `maxBytes` for the node the call waits, first come first served,
//   until earlier answers are out: a burst is slowed, never dropped; with
//   more than `maxWaiting` calls waiting it is UNAVAILABLE (`node.busy`).
//
// Answers under `smallBytes` are not counted: a normal client's pages of
// text messages never wait behind an attacker's.
import { createContextKey, type ContextValues } from "@connectrpc/connect";
import { NodeError } from "../node-error.js";
import { clientAddressKey } from "./rate-limit.js";

export interface MemoryInFlightLimits {
  readonly maxBytes: number;
  readonly maxBytesPerAddress: number;
  readonly maxWaiting: number;
  readonly smallBytes: number;
}

export const defaultMemoryInFlightLimits: MemoryInFlightLimits = {
  // Three answers of the largest size at once; with their encoded copies
  // on their way out, the node stays under 512 MiB.
  maxBytes: 96 * 1024 * 1024,
  // One answer of the largest size (RequestLimits.maxAnswerBytes), or any
  // number of smaller ones up to it; the first reservation of an address
  // is never refused for its size.
  maxBytesPerAddress: 32 * 1024 * 1024,
  maxWaiting: 1024,
  smallBytes: 64 * 1024,
};

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
}

export class MemoryInFlight {
  readonly #limits: MemoryInFlightLimits;
  #inUse = 0;
  readonly #byAddress = new Map<string, number>();
  readonly #waiting: Waiter[] = [];

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
   * Reserves `bytes` for `address`; resolves once they fit the node's memory.
   *
   * @throws NodeError `node.rate_limited` past the address's share, `node.busy` when too many wait
   */
  async reserve(address: string, bytes: number): Promise<number> {
    if (bytes < this.#limits.smallBytes) return 0;
    const counted = Math.min(bytes, this.#limits.maxBytes);
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

  release(address: string, counted: number): void {
    if (counted === 0) return;
    this.#inUse -= counted;
    this.#forget(address, counted);
    // First come first served: the head waits until it fits, and those behind it too.
    for (let head = this.#waiting[0]; head !== undefined && this.#inUse + head.bytes <= this.#limits.maxBytes; head = this.#waiting[0]) {
      this.#waiting.shift();
      this.#inUse += head.bytes;
      head.resolve();
    }
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

  /** Reserves the bytes of an answer before it is read; see MemoryInFlight. */
  async reserve(bytes: number): Promise<void> {
    const counted = await this.memory.reserve(this.address, bytes);
    if (this.#released) this.memory.release(this.address, counted);
    else this.#reserved += counted;
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
