// Which calls cost what, per client IP: publishing calls draw from one
// bucket, everything else from another; a send costs one token per message.
// A stream is charged once, when it opens; the bidirectional Subscribe also
// one token per topic each Mutate adds (streamChargeKey), as if each were a
// stream of its own.
import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { NodeError } from "../node-error.js";
import { TokenBuckets, type BucketLimit } from "./token-buckets.js";

export interface RateLimits {
  readonly publish: BucketLimit;
  readonly default: BucketLimit;
}

/** The reference node's regular (non-priority) limits. */
export const defaultRateLimits: RateLimits = {
  publish: { capacity: 3000, refillPerMinute: 600 },
  default: { capacity: 20_000, refillPerMinute: 4000 },
};

/**
 * Charges a stream in progress `cost` more tokens of the default bucket.
 * @throws NodeError node.rate_limited when the bucket holds fewer.
 */
export type StreamCharge = (cost: number) => void;

/** Set on every stream by the rate limiter; free when limits are off. */
export const streamChargeKey = createContextKey<StreamCharge>(() => undefined, { description: "stream charge" });

/** The client's address, as the transport saw it. */
export const clientAddressKey = createContextKey<string>("unknown", { description: "client address" });

const PUBLISH_METHODS = new Set([
  "RegisterInstallation",
  "UploadKeyPackage",
  "PublishIdentityUpdate",
  "SendGroupMessages",
  "SendWelcomeMessages",
]);

function costOf(methodName: string, message: unknown): number {
  if (methodName === "SendGroupMessages" || methodName === "SendWelcomeMessages") {
    const messages = (message as { messages?: unknown[] }).messages;
    return Math.max(1, messages?.length ?? 1);
  }
  return 1;
}

export function rateLimitInterceptor(limits: RateLimits, nowMs?: () => number): Interceptor {
  const publish = new TokenBuckets(limits.publish, nowMs);
  const other = new TokenBuckets(limits.default, nowMs);
  return (next) => async (request) => {
    const methodName = request.method.name;
    const isPublish = PUBLISH_METHODS.has(methodName);
    const cost = request.stream ? 1 : costOf(methodName, request.message);
    const address = request.contextValues.get(clientAddressKey);
    if (!(isPublish ? publish : other).take(address, cost)) {
      throw new NodeError("node.rate_limited", `${cost} exceeds the ${isPublish ? "publish" : "default"} rate limit`);
    }
    if (request.stream) {
      request.contextValues.set(streamChargeKey, (more) => {
        if (!other.take(address, more)) throw new NodeError("node.rate_limited", `${more} exceeds the default rate limit`);
      });
    }
    return next(request);
  };
}
