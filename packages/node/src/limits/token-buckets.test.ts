import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBuckets } from "./token-buckets.js";

describe("TokenBuckets", () => {
  it("allows the burst, refuses past it, and refills continuously", () => {
    let now = 0;
    const buckets = new TokenBuckets({ capacity: 10, refillPerMinute: 60 }, () => now);
    assert.equal(buckets.take("a", 10), true);
    assert.equal(buckets.take("a", 1), false, "empty");
    assert.equal(buckets.take("b", 3), true, "buckets are per key");
    now += 1_000; // one second: one token back
    assert.equal(buckets.take("a", 1), true);
    assert.equal(buckets.take("a", 1), false);
    now += 30_000;
    assert.equal(buckets.take("a", 11), false, "never more than the capacity");
    assert.equal(buckets.take("a", 10), true);
  });

  it("forgets buckets that have been idle long enough to be full", () => {
    let now = 0;
    const buckets = new TokenBuckets({ capacity: 10, refillPerMinute: 600 }, () => now);
    for (let i = 0; i < 100; i++) buckets.take(`client ${i}`, 1);
    assert.equal(buckets.size, 100);
    now += 60_000;
    buckets.take("late", 1);
    assert.equal(buckets.size, 1);
  });
});
