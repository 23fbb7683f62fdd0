// Per-client token buckets (../shared/spec/xmtp-node-api.md section 5): a
// bucket starts full and refills continuously (the reference only refills
// after a whole idle minute, a [quirk] we don't copy). Buckets idle long
// enough to be full again are dropped, so memory follows active clients.

export interface BucketLimit {
  /** The burst: how many tokens a full bucket holds. */
  readonly capacity: number;
  readonly refillPerMinute: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs = 0;

  constructor(
    private readonly limit: BucketLimit,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Takes `cost` tokens from `key`'s bucket; false (and takes none) when short. */
  take(key: string, cost: number): boolean {
    const now = this.nowMs();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.capacity, updatedMs: now };
    const refill = ((now - bucket.updatedMs) / 60_000) * this.limit.refillPerMinute;
    bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + Math.max(0, refill));
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    const fullAfterMs = (this.limit.capacity / Math.max(this.limit.refillPerMinute, 1e-9)) * 60_000;
    if (now - this.lastSweepMs < Math.min(fullAfterMs, 60_000)) return;
    this.lastSweepMs = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedMs >= fullAfterMs) this.buckets.delete(key);
    }
  }
}
