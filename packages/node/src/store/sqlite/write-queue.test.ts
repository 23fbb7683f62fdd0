// Writes of one turn share a transaction; a failing write is undone alone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { MAX_BATCH_BYTES, SMALL_WRITE_BYTES, WriteQueue } from "./write-queue.js";

describe("WriteQueue", () => {
  it("commits the writes of one turn together, each in its own savepoint", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v TEXT UNIQUE)");
    let commits = 0;
    const queue = new WriteQueue(db);
    const insert = (v: string) =>
      queue.enqueue(() => {
        assert.equal(db.inTransaction, true);
        db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
        return v;
      });
    const originalTransaction = db.transaction.bind(db);
    db.transaction = ((fn: (...args: unknown[]) => unknown) => {
      const wrapped = originalTransaction(fn);
      return Object.assign((...args: unknown[]) => {
        const outer = !db.inTransaction;
        const result = wrapped(...args);
        if (outer) commits++;
        return result;
      }, wrapped);
    }) as typeof db.transaction;

    const results = await Promise.allSettled([insert("a"), insert("b"), insert("a"), insert("c")]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    assert.equal(commits, 1, "one transaction for the four writes");
    assert.deepEqual(db.prepare("SELECT v FROM t ORDER BY v").pluck().all(), ["a", "b", "c"]);

    await insert("d");
    assert.equal(commits, 2, "a later turn is a new transaction");
    db.close();
  });

  it("holds large writes to MAX_BATCH_BYTES a transaction, and commits a small one with the first", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const queue = new WriteQueue(db);
    const committed: string[][] = [];
    let current: string[] = [];
    const write = (v: string, bytes: number) =>
      queue.enqueue(() => {
        db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
        current.push(v);
      }, bytes);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const large = Array.from({ length: 8 }, (_, i) => write(`large${i}`, MAX_BATCH_BYTES / 2 + 1));
    const small = write("small", SMALL_WRITE_BYTES);
    let smallDone = false;
    void small.then(() => (smallDone = true));
    for (let i = 0; i < 20 && committed.flat().length < 9; i += 1) {
      await turn();
      if (current.length > 0) committed.push(current);
      current = [];
    }
    await Promise.all([...large, small]);
    assert.deepEqual(committed[0], ["large0", "small"], "the first transaction: one large write (two would pass the bound) and the small one");
    assert.ok(committed.every((batch) => batch.filter((v) => v.startsWith("large")).length === 1), "every later one: one large write");
    assert.equal(committed.length, 8);
    assert.ok(smallDone);
    queue.flush(true);
    db.close();
  });

  it("flush(true) commits everything pending, however large", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const queue = new WriteQueue(db);
    const writes = Array.from({ length: 5 }, (_, i) => queue.enqueue(() => db.prepare("INSERT INTO t (v) VALUES (?)").run(String(i)), MAX_BATCH_BYTES));
    queue.flush(true);
    assert.equal(db.prepare("SELECT COUNT(*) FROM t").pluck().get(), 5);
    await Promise.all(writes);
    db.close();
  });
});
