// The byte budget of one answer (RequestLimits.maxAnswerBytes): records are
// counted as they are added, so that no request, however small, is answered
// with more than the budget (a page of the largest messages, one key asked
// for ten thousand times).
import { NodeError } from "../node-error.js";
import type { GroupMessageRecord, Page, RecordSize, Store, WelcomeRecord } from "../store/store.js";
import type { TopicKind } from "../streams/notifier.js";

export class AnswerBudget {
  readonly #max: number;
  #left: number;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
    this.#left = maxBytes;
  }

  /** The bytes counted so far: what the answer's memory reservation is for. */
  get spent(): number {
    return this.#max - this.#left;
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

/**
 * The part of a page whose records fit `maxBytes`, the first always, from
 * the records' sizes (read without their payloads): the page to read, and
 * whether it stopped before its limit for the budget. So a page never
 * brings more than the budget (and one record) into memory, however large
 * the records it could hold. `bytes`: the payload bytes of the page to read.
 */
export function pageWithinBudget(
  page: Page,
  sizes: readonly RecordSize[],
  maxBytes: number,
): { readonly page: Page | undefined; readonly cut: boolean; readonly bytes: number } {
  const budget = new AnswerBudget(maxBytes);
  let count = 0;
  let bytes = 0;
  for (const size of sizes) {
    if (!budget.take(size.bytes) && count > 0) break;
    count += 1;
    bytes += size.bytes;
  }
  const last = sizes[count - 1];
  return { page: last === undefined ? undefined : { ...page, limit: count, until: last.id }, cut: count < sizes.length, bytes };
}

/** A topic's records, as read for a stream. */
export type TopicRecord = GroupMessageRecord | WelcomeRecord;

/** Records of a topic; `more`: records may follow them. */
export interface TopicPage<R> {
  readonly records: R[];
  readonly more: boolean;
}

/**
 * A stream's next records of a topic: `page`, cut at `maxBytes` of payload
 * (the first record always), measured before anything is read. So a
 * subscriber, however far behind and however slowly it reads, never has
 * more than about a frame read for it: a hundred records of 256 KiB were
 * 25 MiB read for each new subscription, most of it read again later.
 * `more`: records may follow (the page was full, or cut).
 */
export function readTopicWithin(store: Store, kind: "group", id: Uint8Array, page: Page, maxBytes: number): Promise<TopicPage<GroupMessageRecord>>;
export function readTopicWithin(store: Store, kind: "welcome", id: Uint8Array, page: Page, maxBytes: number): Promise<TopicPage<WelcomeRecord>>;
export function readTopicWithin(store: Store, kind: TopicKind, id: Uint8Array, page: Page, maxBytes: number): Promise<TopicPage<TopicRecord>>;
export async function readTopicWithin(store: Store, kind: TopicKind, id: Uint8Array, page: Page, maxBytes: number): Promise<TopicPage<TopicRecord>> {
  const sizes = kind === "group" ? await store.groupMessageSizes(id, page) : await store.welcomeSizes(id, page);
  const fit = pageWithinBudget(page, sizes, maxBytes);
  if (fit.page === undefined) return { records: [], more: false };
  const records = kind === "group" ? await store.queryGroupMessages(id, fit.page) : await store.queryWelcomes(id, fit.page);
  return { records, more: fit.cut || sizes.length === page.limit };
}
