// Peers that vanished without closing (the network gone, no FIN, no RST): a
// stream open to such a peer is a call in progress, so the idle deadline
// (connection-limits.ts) never runs for it, and a stream the node writes
// nothing to is never seen stalled (slow-clients.ts). It would hold its call,
// its topics and its memory for ever. So an HTTP/2 connection with streams
// open that has received nothing for `keepAliveIntervalMs` is sent a PING
// (RFC 9113 section 6.7, which the peer must acknowledge), and one that
// does not acknowledge it within `keepAliveTimeoutMs` is destroyed: its
// streams close, and with them everything their calls hold. As gRPC
// servers do (grpc-go's keepalive.ServerParameters); a connection with no
// stream open is left to the idle deadline.
//
// HTTP/1.1 has no ping: accepted sockets get TCP keep-alive instead
// (`tcpKeepAlive`), whose probes are the kernel's.
import type http2 from "node:http2";
import type net from "node:net";

export interface KeepAliveLimits {
  /** An HTTP/2 connection with streams open that has received nothing for this long is sent a PING. */
  readonly keepAliveIntervalMs: number;
  /** A PING not acknowledged within this destroys the connection and every stream on it. */
  readonly keepAliveTimeoutMs: number;
}

/**
 * TCP keep-alive on an accepted socket, first probe after
 * `keepAliveIntervalMs` of silence: a dead peer of an HTTP/1.1 response
 * that writes nothing (a quiet server stream) is then noticed by the
 * kernel, after its own probes (Linux: 9, 75 s apart).
 */
export function tcpKeepAlive(socket: net.Socket, limits: KeepAliveLimits): void {
  socket.setKeepAlive(true, limits.keepAliveIntervalMs);
}

/**
 * Silence is measured by what the connection read over each quarter of
 * the interval (Node tells no time of the last frame, only a count of
 * bytes): a PING goes out between one interval and a quarter more after
 * the last byte.
 */
const TICKS_PER_INTERVAL = 4;

/** The keep-alive of one HTTP/2 session: a timer only while it has streams open. */
class SessionKeepAlive {
  readonly #session: http2.ServerHttp2Session;
  readonly #limits: KeepAliveLimits;
  #streams = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Bytes the session had read at the last tick. */
  #heard = 0;
  /** Ticks in a row with nothing read. */
  #quietTicks = 0;
  #pinging = false;

  constructor(session: http2.ServerHttp2Session, limits: KeepAliveLimits) {
    this.#session = session;
    this.#limits = limits;
    session.on("stream", (stream) => {
      this.#streams += 1;
      if (this.#streams === 1) this.#listen();
      stream.once("close", () => {
        this.#streams -= 1;
        if (this.#streams === 0) this.#stop();
      });
    });
    session.once("close", () => this.#stop());
  }

  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Quiet time counts from now. */
  #listen(): void {
    this.#pinging = false;
    this.#heard = this.#received();
    this.#quietTicks = 0;
    this.#arm(this.#limits.keepAliveIntervalMs / TICKS_PER_INTERVAL, () => this.#tick());
  }

  /** Anything read since the last tick (a frame, a byte) shows the peer alive; a whole interval of silence earns a PING. */
  #tick(): void {
    const received = this.#received();
    if (received !== this.#heard) {
      this.#heard = received;
      this.#quietTicks = 0;
    } else {
      this.#quietTicks += 1;
    }
    if (this.#quietTicks < TICKS_PER_INTERVAL) {
      this.#arm(this.#limits.keepAliveIntervalMs / TICKS_PER_INTERVAL, () => this.#tick());
      return;
    }
    this.#ping();
  }

  #ping(): void {
    this.#pinging = true;
    try {
      this.#session.ping((error) => {
        // Cancelled: the session is going anyway.
        if (error !== null || !this.#pinging || this.#streams === 0) return;
        this.#listen();
      });
    } catch {
      // Destroyed, or closing with pings refused: the session ends without us.
      this.#stop();
      return;
    }
    this.#arm(this.#limits.keepAliveTimeoutMs, () => {
      this.#timer = undefined;
      this.#session.destroy();
    });
  }

  /** What the connection has read so far, in bytes (with TLS, decrypted bytes). */
  #received(): number {
    if (this.#session.destroyed) return this.#heard;
    return this.#session.socket.bytesRead;
  }

  #arm(ms: number, then: () => void): void {
    this.#disarm();
    this.#timer = setTimeout(then, ms);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** No stream left (or no session): nothing to watch, and an answer to a PING in flight changes nothing. */
  #stop(): void {
    this.#disarm();
    this.#pinging = false;
  }
}

/** The keep-alive of every HTTP/2 session of a listener. */
export class KeepAlive {
  readonly #limits: KeepAliveLimits;
  readonly #sessions = new Set<SessionKeepAlive>();

  constructor(limits: KeepAliveLimits) {
    this.#limits = limits;
  }

  /** Watches a session until it closes. */
  watch(session: http2.ServerHttp2Session): void {
    const keepAlive = new SessionKeepAlive(session, this.#limits);
    this.#sessions.add(keepAlive);
    session.once("close", () => this.#sessions.delete(keepAlive));
  }

  /** Timers running: one per session with streams open (for metrics and tests). */
  get timers(): number {
    let timers = 0;
    for (const session of this.#sessions) if (session.armed) timers += 1;
    return timers;
  }
}
