// The byte budget of one answer (RequestLimits.maxAnswerBytes): records are
// counted as they are added, so that no request, however small, is answered
// with more than the budget (a page of the largest messages, one key asked
// for ten thousand times).
import { NodeError } from "../node-error.js";

export class AnswerBudget {
  #left: number;

  constructor(maxBytes: number) {
    this.#left = maxBytes;
  }

  /** Counts `bytes`; false once the budget is spent (the record is not to be sent). */
  take(bytes: number): boolean {
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }

  /** @throws NodeError `node.answer_too_large` when `bytes` do not fit. */
  require(bytes: number, what: string): void {
    if (!this.take(bytes)) throw new NodeError("node.answer_too_large", `the answer to this ${what} would exceed the node's limit; ask for fewer`);
  }
}

/** Keeps the records of a page that fit the budget, in order; the first always. */
export function withinBudget<T>(records: readonly T[], sizeOf: (record: T) => number, maxBytes: number): T[] {
  const budget = new AnswerBudget(maxBytes);
  const kept: T[] = [];
  for (const record of records) {
    if (!budget.take(sizeOf(record)) && kept.length > 0) break;
    kept.push(record);
  }
  return kept;
}
