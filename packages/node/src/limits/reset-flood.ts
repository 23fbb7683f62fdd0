// Streams opened and given up at once (HTTP/2 "rapid reset", CVE-2023-44487):
// each costs the node a request's whole setup (the stream, its compat
// objects, the handler up to the rate limit's refusal), and a client that
// cancels every stream it opens, or keeps opening streams that are refused,
// can keep the event loop busy with nothing else, however small each cost.
// Rate limits refuse such calls but cannot make them free: a client that
// goes on calling once refused costs as much. So a connection whose streams
// end unanswered (reset by the client, or cut) or refused for a limit
// (RESOURCE_EXHAUSTED) more than `maxAbandonedStreams` times within
// `windowMs` is closed (GOAWAY ENHANCE_YOUR_CALM), and its client address
// may not open a connection for `cooldownMs`. A client that cancels a
// stream now and then, as libxmtp does when a conversation stream ends, or
// meets a limit and backs off, is far from it.
//
// nghttp2 has its own reset limit (a burst of 1,000, then 33 a second, per
// connection); a client that reconnects starts afresh there. Here the
// address waits.
import { clientAddress } from "./client-address.js";

export interface ResetFloodLimits {
  /** Streams ended unanswered on one connection within the window before it is closed. */
  readonly maxAbandonedStreams: number;
  readonly windowMs: number;
  /** How long the address of a closed connection may not connect. */
  readonly cooldownMs: number;
}

export const defaultResetFloodLimits: ResetFloodLimits = {
  maxAbandonedStreams: 100,
  windowMs: 10_000,
  cooldownMs: 10_000,
};

interface Window {
  startMs: number;
  count: number;
}

export class ResetFlood {
  readonly #limits: ResetFloodLimits;
  readonly #now: () => number;
  readonly #windows = new WeakMap<object, Window>();
  readonly #blockedUntil = new Map<string, number>();

  constructor(limits: ResetFloodLimits = defaultResetFloodLimits, nowMs: () => number = Date.now) {
    this.#limits = limits;
    this.#now = nowMs;
  }

  /** Whether a connection from `remoteAddress` is to be refused (its address is cooling down). */
  blocked(remoteAddress: string | undefined): boolean {
    const address = clientAddress(remoteAddress);
    const until = this.#blockedUntil.get(address);
    if (until === undefined) return false;
    if (this.#now() < until) return true;
    this.#blockedUntil.delete(address);
    return false;
  }

  /**
   * A stream of `connection` ended before its answer was: true when the
   * connection is now to be closed (its address then cools down).
   */
  abandoned(connection: object, remoteAddress: string | undefined): boolean {
    const now = this.#now();
    let window = this.#windows.get(connection);
    if (window === undefined || now - window.startMs >= this.#limits.windowMs) {
      window = { startMs: now, count: 0 };
      this.#windows.set(connection, window);
    }
    window.count += 1;
    if (window.count <= this.#limits.maxAbandonedStreams) return false;
    this.#blockedUntil.set(clientAddress(remoteAddress), now + this.#limits.cooldownMs);
    this.#sweep(now);
    return true;
  }

  /** Addresses whose cooldown is over are forgotten, so the map follows the abusive ones. */
  #sweep(now: number): void {
    for (const [address, until] of this.#blockedUntil) if (until <= now) this.#blockedUntil.delete(address);
  }

  get blockedAddresses(): number {
    return this.#blockedUntil.size;
  }
}
