// A signal aborted when either of two is: a stream's own (the client went
// away, the call ended) or the node's shutdown. AbortSignal.any would do,
// but on Node 20 every signal it makes stays referenced from its sources:
// the node's shutdown signal lives as long as the node, so each stream
// would leave a little behind for good (some 80 bytes, and kilobytes once
// a listener was added; measured with bench/node/run.ts). Here the
// listeners on both sources are removed as soon as either fires.

/** Aborted when `a` or `b` is; holds nothing on either once it is. */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const both = new AbortController();
  if (a.aborted || b.aborted) {
    both.abort(a.aborted ? a.reason : b.reason);
    return both.signal;
  }
  const onA = () => both.abort(a.reason);
  const onB = () => both.abort(b.reason);
  a.addEventListener("abort", onA, { once: true });
  b.addEventListener("abort", onB, { once: true });
  both.signal.addEventListener(
    "abort",
    () => {
      a.removeEventListener("abort", onA);
      b.removeEventListener("abort", onB);
    },
    { once: true },
  );
  return both.signal;
}
