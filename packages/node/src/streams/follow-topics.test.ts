// A follower sees every record of its topics after its cursor, in order,
// once, while writers keep appending concurrently.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { readTopicWithin } from "../services/answer-budget.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { GroupMessageRecord, Store } from "../store/store.js";
import { defaultStreamLimits } from "./backlog.js";
import { followTopics } from "./follow-topics.js";
import { Notifier, topicKey } from "./notifier.js";

function follower(store: Store, notifier: Notifier, groups: Uint8Array[], signal: AbortSignal, cursor = 0n) {
  return followTopics(
    groups.map((id) => ({ key: topicKey("group", id), id, cursor })),
    (id: Uint8Array, after: bigint, limit: number) => readTopicWithin(store, "group", id, { direction: "ascending", limit, cursor: after }, defaultStreamLimits.maxFrameBytes),
    notifier,
    signal,
    defaultStreamLimits,
  );
}

async function append(store: Store, notifier: Notifier, groupId: Uint8Array, text: string) {
  const records = await store.appendGroupMessages([
    { groupId, data: new TextEncoder().encode(text), senderHmac: new Uint8Array(), shouldPush: true, isCommit: false },
  ]);
  notifier.notify(records.map((r) => ({ key: topicKey("group", r.groupId), bytes: r.data.length })));
  return records;
}

describe("followTopics", () => {
  it("delivers history and then live records, every one once and in order, under concurrent writers", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    const notifier = new Notifier();
    const groups = Array.from({ length: 5 }, () => randomBytes(16));
    const unrelated = randomBytes(16);
    // History before the follower opens, more than one read batch of it.
    for (let i = 0; i < 150; i++) await append(store, notifier, groups[i % 5]!, `history ${i}`);

    const abort = new AbortController();
    const seen = new Map<string, bigint[]>();
    const total = 150 + 5 * 60;
    const reading = (async () => {
      let count = 0;
      for await (const record of follower(store, notifier, groups, abort.signal)) {
        const key = Buffer.from(record.groupId).toString("hex");
        seen.set(key, [...(seen.get(key) ?? []), record.id]);
        if (++count === total) abort.abort();
      }
    })();

    // Five writers, each interleaving its group with an unrelated one.
    await Promise.all(
      groups.map(async (group, w) => {
        for (let i = 0; i < 60; i++) {
          await Promise.all([append(store, notifier, group, `live ${w}/${i}`), append(store, notifier, unrelated, `x${i}`)]);
        }
      }),
    );
    await reading;

    for (const group of groups) {
      const stored = (await store.queryGroupMessages(group, { direction: "ascending", limit: 1000, cursor: 0n })).map(
        (r) => r.id,
      );
      assert.equal(stored.length, 90);
      assert.deepEqual(seen.get(Buffer.from(group).toString("hex")), stored, "every record, in order, once");
    }
    assert.equal(notifier.topicCount, 0, "the follower stopped listening when it ended");
    await store.close();
  });

  it("reads history a few records at a time when they are large, and still delivers every one", { timeout: 10_000 }, async () => {
    const store = new SqliteStore({ path: ":memory:" });
    const notifier = new Notifier();
    const group = randomBytes(16);
    const big = "x".repeat(1000);
    for (let i = 0; i < 30; i++) await append(store, notifier, group, `${i} ${big}`);
    const reads: number[] = [];
    const abort = new AbortController();
    const ids: bigint[] = [];
    // A read is cut at 3 KB of payload: three of these records (the first always), not a batch of 100.
    const follow = followTopics(
      [{ key: topicKey("group", group), id: group, cursor: 0n }],
      async (id: Uint8Array, after: bigint, limit: number) => {
        const page = await readTopicWithin(store, "group", id, { direction: "ascending", limit, cursor: after }, 3000);
        reads.push(page.records.length);
        return page;
      },
      notifier,
      abort.signal,
      defaultStreamLimits,
    );
    for await (const record of follow) {
      ids.push(record.id);
      if (ids.length === 30) abort.abort();
    }
    assert.deepEqual(ids, (await store.queryGroupMessages(group, { direction: "ascending", limit: 100, cursor: 0n })).map((r) => r.id), "every record, in order");
    assert.ok(reads.every((n) => n <= 3), `no read brought more than 3 records: ${reads.join(", ")}`);
    await store.close();
  });

  it("starts after the cursor and ends when aborted while idle", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    const notifier = new Notifier();
    const group = randomBytes(16);
    const [first] = await append(store, notifier, group, "old");
    await append(store, notifier, group, "new");
    const abort = new AbortController();
    const received: GroupMessageRecord[] = [];
    const reading = (async () => {
      for await (const record of follower(store, notifier, [group], abort.signal, first?.id ?? 0n)) {
        received.push(record);
        setTimeout(() => abort.abort(), 20);
      }
    })();
    await reading;
    assert.deepEqual(received.map((r) => new TextDecoder().decode(r.data)), ["new"]);
    await store.close();
  });
});
