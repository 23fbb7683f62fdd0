// The refusal of a call past its client address's cap on calls in progress
// (connection-limits.ts). The transport counts calls as they start, before
// any protocol is known, and marks the call; this interceptor, first after
// the error mapping, refuses it in the call's own protocol with
// RESOURCE_EXHAUSTED (node.rate_limited), before it costs a rate-limit token.
import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { NodeError } from "../node-error.js";

/** True on a call that started past its address's cap. */
export const overCallCapKey = createContextKey<boolean>(false, { description: "over the call cap" });

export function callCapInterceptor(): Interceptor {
  return (next) => (request) => {
    if (request.contextValues.get(overCallCapKey)) {
      throw new NodeError("node.rate_limited", "too many calls in progress from this address");
    }
    return next(request);
  };
}
