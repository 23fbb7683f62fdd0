// What one client may hold open on the node's port, and for how long. The
// per-call rate limits (rate-limit.ts) charge calls; these bound what costs
// the node memory and sockets before any call is made: connections per
// client address, a deadline for a connection's first request (a slow or
// silent client: "slowloris"), an idle deadline once nothing is in
// progress, and concurrent HTTP/2 streams per connection.
//
// The deadlines are absolute, not reset by incoming bytes: a client that
// trickles one header byte at a time is dropped as surely as a silent one.
import type net from "node:net";
import { clientAddress } from "./client-address.js";

export interface ConnectionLimits {
  /** Most connections open at once from one client address (IPv6: one /64). */
  readonly maxConnectionsPerAddress: number;
  /** From accepting a connection (and its TLS handshake) to its first complete request or stream. */
  readonly firstRequestTimeoutMs: number;
  /** A connection with no request or stream in progress is closed after this. */
  readonly idleTimeoutMs: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: requests in flight on one connection. */
  readonly maxStreamsPerConnection: number;
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
};

/** One accepted connection: what is in progress on it and its deadline. */
export class GuardedConnection {
  readonly #socket: net.Socket;
  readonly #limits: ConnectionLimits;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #http2 = false;

  constructor(socket: net.Socket, limits: ConnectionLimits) {
    this.#socket = socket;
    this.#limits = limits;
    this.#arm(limits.firstRequestTimeoutMs);
    socket.once("close", () => this.#disarm());
  }

  /** A request (HTTP/1.1) or stream (HTTP/2) started on it. */
  begin(http2: boolean): void {
    this.#http2 ||= http2;
    this.#inFlight += 1;
    this.#disarm();
  }

  /** One ended; with nothing left in progress the idle deadline runs (or, once closing, it ends now). */
  end(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
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

/** The connections of every client address, refused past the per-address cap. */
export class ConnectionGuard {
  readonly #limits: ConnectionLimits;
  readonly #perAddress = new Map<string, number>();
  readonly #open = new Set<GuardedConnection>();

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** Takes a new connection, or destroys it when its address holds the most it may. */
  admit(socket: net.Socket): GuardedConnection | undefined {
    const address = clientAddress(socket.remoteAddress);
    const count = this.#perAddress.get(address) ?? 0;
    if (count >= this.#limits.maxConnectionsPerAddress) {
      socket.destroy();
      return undefined;
    }
    this.#perAddress.set(address, count + 1);
    const connection = new GuardedConnection(socket, this.#limits);
    this.#open.add(connection);
    socket.once("close", () => {
      this.#open.delete(connection);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    });
    return connection;
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
