// The node under attack, in a process of its own so that its memory is its
// own: the built package (as `parley node start` runs it, not the sources
// through tsx: that holds about 30 MiB more), the embedded SQLite store in a
// fresh directory and every limit at its default. Started by bench/attack/run.ts
// (over IPC), which asks it for its peaks when an attack is over.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createLogger, createXmtpValidators, SqliteStore, startNode } from "@parley/node";

const dbPath = process.argv[2];
if (dbPath === undefined || process.send === undefined) throw new Error("usage: forked by bench/attack/run.ts with the store's path");

const node = await startNode({
  store: new SqliteStore({ path: dbPath }),
  validators: createXmtpValidators(),
  logger: createLogger("silent"),
  host: "127.0.0.1",
  port: 0,
});

let peakRss = 0;
let peakHeap = 0;
let peakExternal = 0;
const sample = () => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  peakExternal = Math.max(peakExternal, usage.external);
};
const sampler = setInterval(sample, 25);
// How long the node's own event loop stalls: what every other caller waits on.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

process.on("message", (message: unknown) => {
  if (message === "reset") {
    // The attack starts: peaks from here on, not from the node's start-up.
    peakRss = 0;
    peakHeap = 0;
    peakExternal = 0;
    loopDelay.reset();
  } else if (message === "report") {
    sample();
    process.send!({
      peakRss,
      peakHeap,
      peakExternal,
      rss: process.memoryUsage().rss,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
    });
  } else if (message === "stop") {
    clearInterval(sampler);
    loopDelay.disable();
    void node.stop().finally(() => process.exit(0));
  }
});
process.send({ port: node.port });
