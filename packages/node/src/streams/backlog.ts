// How far a subscriber is behind, and the limit past which it is cut off.
// The node keeps no queue per subscriber: records stay in the store and a
// subscriber reads them from its cursor, at the pace its client reads (the
// transport's flow control), so a slow one costs the node one frame in
// flight, never a growing buffer, and a publisher never waits for it. What
// grows is the backlog: records announced on its topics and not yet sent.
// Past the limit the stream ends with ABORTED "caller did not read all
// messages fast enough", as xmtp-node-go ends a group stream whose
// dispatcher channel (max(1024, log2(#topics)+1) envelopes) filled
// (../shared/spec/xmtp-node-api.md sections 1.4 and 4.3); the client resumes from its
// cursor and loses nothing.
import { NodeError } from "../node-error.js";

export interface StreamLimits {
  /** Records announced on a subscriber's topics and not yet sent, past which it is cut off. */
  readonly maxBacklogRecords: number;
  /** The same in payload bytes. */
  readonly maxBacklogBytes: number;
  /** Largest frame of the bidirectional Subscribe, in payload bytes (a frame always carries its first record). */
  readonly maxFrameBytes: number;
  /** Requests a bidirectional Subscribe may have waiting to be served, past which it is cut off. */
  readonly maxQueuedRequests: number;
  /** The same in bytes of the topics they name. */
  readonly maxQueuedRequestBytes: number;
}

export const defaultStreamLimits: StreamLimits = {
  // xmtp-node-go's channel depth for any realistic number of topics.
  maxBacklogRecords: 1024,
  // Two of the largest messages (25 MiB) and more: a burst of big
  // attachments does not cut off a client that reads at a normal pace.
  maxBacklogBytes: 64 * 1024 * 1024,
  maxFrameBytes: 4 * 1024 * 1024,
  // A client waits for a Mutate's CatchupComplete before the next in
  // practice; a few in flight are plenty.
  maxQueuedRequests: 32,
  // A Mutate of 10,000 topics (the most one stream may follow) names
  // about 330 KB of them.
  maxQueuedRequestBytes: 1024 * 1024,
};

/** The error that ends a stream whose client fell too far behind (ABORTED). */
export function tooSlow(): NodeError {
  return new NodeError("node.slow_reader", "caller did not read all messages fast enough");
}

export class Backlog {
  readonly #limits: StreamLimits;
  #records = 0;
  #bytes = 0;
  #overflowed = false;

  constructor(limits: StreamLimits) {
    this.#limits = limits;
  }

  /** Records announced on the subscriber's topics. */
  add(records: number, bytes: number): void {
    this.#records += records;
    this.#bytes += bytes;
    if (this.#records > this.#limits.maxBacklogRecords || this.#bytes > this.#limits.maxBacklogBytes) {
      this.#overflowed = true;
    }
  }

  /**
   * Records handed to the transport. History read before the notices came
   * is sent too, so the count floors at zero: it may undercount for a
   * moment, never overflow for records already sent.
   */
  sent(records: number, bytes: number): void {
    this.#records = Math.max(0, this.#records - records);
    this.#bytes = Math.max(0, this.#bytes - bytes);
  }

  /** Throws node.slow_reader once the subscriber fell past the limit. */
  check(): void {
    if (this.#overflowed) throw tooSlow();
  }
}
