// Writes of one turn share a transaction; a failing write is undone alone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { WriteQueue } from "./write-queue.js";

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
});
