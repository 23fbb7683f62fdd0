// How many of one connection's new streams are handed to the handlers in
// one turn of the event loop. Node hands over every stream of a socket read
// at once, and an attacker can fit hundreds in one read (HTTP/2 rapid
// reset): built one after the other, their calls were one task of most of
// a second, and every other client waited on it. Past STREAMS_PER_TURN the
// rest wait for the next turn, after other connections and timers had
// theirs; by then the resets that followed them have arrived, and a stream
// already reset costs nothing more.
import type http2 from "node:http2";

export const STREAMS_PER_TURN = 16;

interface Paced {
  count: number;
  readonly waiting: (() => void)[];
}

export class StreamPacer {
  readonly #sessions = new Map<http2.Http2Session, Paced>();
  #turn: NodeJS.Immediate | undefined;

  /** Runs `serve` now, or in a later turn if `session` has had its share of this one. */
  pace(session: http2.Http2Session, serve: () => void): void {
    let paced = this.#sessions.get(session);
    if (paced === undefined) {
      paced = { count: 0, waiting: [] };
      this.#sessions.set(session, paced);
    }
    if (paced.count < STREAMS_PER_TURN && paced.waiting.length === 0) {
      paced.count += 1;
      serve();
    } else paced.waiting.push(serve);
    if (this.#turn === undefined) this.#turn = setImmediate(() => this.#nextTurn());
  }

  #nextTurn(): void {
    this.#turn = undefined;
    for (const [session, paced] of this.#sessions) {
      paced.count = 0;
      while (paced.count < STREAMS_PER_TURN && paced.waiting.length > 0) {
        paced.count += 1;
        paced.waiting.shift()!();
      }
      if (paced.waiting.length === 0) this.#sessions.delete(session);
    }
    if (this.#sessions.size > 0) this.#turn = setImmediate(() => this.#nextTurn());
  }
}
