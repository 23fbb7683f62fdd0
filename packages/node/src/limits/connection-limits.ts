// What one client may hold open on the node's port, and for how long. The
// per-call rate limits (rate-limit.ts) charge calls; these bound what costs
// the node memory and sockets before any call is made: connections per
// client address, a deadline for a connection's first request (a slow or
// silent client: "slowloris"), an idle deadline once nothing is in
// progress, concurrent HTTP/2 streams per connection, and calls in progress
// per client address across all its connections (a call past that cap is
// refused with RESOURCE_EXHAUSTED, call-cap.ts). Calls too slow to serve
// are cut off by slow-clients.ts, and dead peers noticed by keep-alive.ts.
//
// The deadlines are absolute, not reset by incoming bytes: a client that
// trickles one header byte at a time is dropped as surely as a silent one.
import { defaultResetFloodLimits, type ResetFloodLimits } from "./reset-flood.js";
import type net from "node:net";
import { clientAddress } from "./client-address.js";
import type { KeepAliveLimits } from "./keep-alive.js";
import type { SlowClientLimits } from "./slow-clients.js";

export interface ConnectionLimits extends SlowClientLimits, ResetFloodLimits, KeepAliveLimits {
  /** Most connections open at once from one client address (IPv6: one /64). */
  readonly maxConnectionsPerAddress: number;
  /** From accepting a connection (and its TLS handshake) to its first complete request or stream. */
  readonly firstRequestTimeoutMs: number;
  /** A connection with no request or stream in progress is closed after this. */
  readonly idleTimeoutMs: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: requests in flight on one connection. */
  readonly maxStreamsPerConnection: number;
  /** Calls (HTTP/2 streams, HTTP/1.1 requests) in progress at once from one client address, over all its connections. */
  readonly maxCallsPerAddress: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  // Generous for many users behind one NAT; a single client needs a few.
  maxConnectionsPerAddress: 256,
  // Node's own headersTimeout default is 60 s; a gRPC client sends its
  // preface and first request at once.
  firstRequestTimeoutMs: 10_000,
  // nginx closes idle keep-alive connections after 75 s; clients reconnect.
  idleTimeoutMs: 120_000,
  // grpc-go's transport allows 100 concurrent streams by default.
  maxStreamsPerConnection: 100,
  // A client holds a few streams (libxmtp: welcomes, groups, one
  // bidirectional Subscribe) and a few calls; this leaves room for
  // hundreds of users behind one NAT, not for 256 connections of 100
  // streams each.
  maxCallsPerAddress: 1024,
  // About 550 bytes a second for an HTTP/2 stream's 16 KiB buffer: far
  // below any working link, and a stalled client is gone in half a minute.
  writeStallTimeoutMs: 30_000,
  // Node's own requestTimeout is 300 s; the payloads clients send inline
  // (libxmtp's attachments are remote past 1 MB) arrive in far less.
  requestTimeoutMs: 60_000,
  // xmtp-node-go's gRPC server pings after 5 min without activity and
  // waits grpc-go's default 20 s for the answer: a dead subscriber is let
  // go within minutes, and a live one is asked once every 5 min at most.
  // Also the first TCP keep-alive probe on every accepted socket.
  keepAliveIntervalMs: 300_000,
  keepAliveTimeoutMs: 20_000,
  ...defaultResetFloodLimits,
};

/** One accepted connection: what is in progress on it and its deadline. */
export class GuardedConnection {
  readonly #socket: net.Socket;
  readonly #limits: ConnectionLimits;
  readonly #calls: AddressCalls;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #http2 = false;

  constructor(socket: net.Socket, limits: ConnectionLimits, calls: AddressCalls) {
    this.#socket = socket;
    this.#limits = limits;
    this.#calls = calls;
    this.#arm(limits.firstRequestTimeoutMs);
    socket.once("close", () => this.#disarm());
  }

  /**
   * A request (HTTP/1.1) or stream (HTTP/2) started on it. False when its
   * client address already has as many calls in progress as it may: the
   * call is then to be refused (and still ended).
   */
  begin(http2: boolean): boolean {
    this.#http2 ||= http2;
    this.#inFlight += 1;
    this.#disarm();
    return this.#calls.begin() <= this.#limits.maxCallsPerAddress;
  }

  /** One ended; with nothing left in progress the idle deadline runs (or, once closing, it ends now). */
  end(): void {
    if (this.#inFlight === 0) return;
    this.#inFlight -= 1;
    this.#calls.end();
    if (this.#inFlight > 0) return;
    if (this.#closing) this.#endNow();
    else this.#arm(this.#limits.idleTimeoutMs);
  }

  /** The node is stopping: end the connection now if idle, else once its last request ends. */
  close(): void {
    this.#closing = true;
    if (this.#inFlight === 0) this.#endNow();
  }

  /**
   * HTTP/2 ends through its session (GOAWAY, then the last frames of its
   * streams are flushed), which the server closes; ending the socket here
   * could cut a stream's trailers. An HTTP/1.1 or silent connection is ended
   * with a FIN after what was written, and destroyed if the peer lingers.
   */
  #endNow(): void {
    if (this.#http2) return;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1_000).unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Whether a deadline is running (for metrics and tests). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  #arm(ms: number): void {
    this.#disarm();
    this.#timer = setTimeout(() => this.#socket.destroy(), ms);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** What one client address has open: connections, and calls in progress over all of them. */
interface AddressUse {
  connections: number;
  calls: number;
}

/** The calls in progress of one client address. */
interface AddressCalls {
  /** Counts one more; answers how many there are now. */
  begin(): number;
  end(): void;
}

/** The connections of every client address, refused past the per-address cap. */
export class ConnectionGuard {
  readonly #limits: ConnectionLimits;
  readonly #perAddress = new Map<string, AddressUse>();
  readonly #open = new Set<GuardedConnection>();

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** Takes a new connection, or destroys it when its address holds the most it may. */
  admit(socket: net.Socket): GuardedConnection | undefined {
    const address = clientAddress(socket.remoteAddress);
    const use = this.#perAddress.get(address) ?? { connections: 0, calls: 0 };
    if (use.connections >= this.#limits.maxConnectionsPerAddress) {
      socket.destroy();
      return undefined;
    }
    use.connections += 1;
    this.#perAddress.set(address, use);
    const forget = () => {
      if (use.connections === 0 && use.calls === 0) this.#perAddress.delete(address);
    };
    const calls: AddressCalls = {
      begin: () => ++use.calls,
      end: () => {
        use.calls -= 1;
        forget();
      },
    };
    const connection = new GuardedConnection(socket, this.#limits, calls);
    this.#open.add(connection);
    socket.once("close", () => {
      this.#open.delete(connection);
      use.connections -= 1;
      forget();
    });
    return connection;
  }

  /** What is held open now, over every address (for metrics and tests). */
  get load(): { connections: number; calls: number; addresses: number; timers: number } {
    let calls = 0;
    for (const use of this.#perAddress.values()) calls += use.calls;
    let timers = 0;
    for (const connection of this.#open) if (connection.armed) timers += 1;
    return { connections: this.#open.size, calls, addresses: this.#perAddress.size, timers };
  }

  /** Every connection ends once idle (stop). */
  closeAll(): void {
    for (const connection of this.#open) connection.close();
  }

  /** Every connection ends now, busy or not (a stop that waited long enough). */
  destroyAll(): void {
    for (const connection of this.#open) connection.destroy();
  }
}
