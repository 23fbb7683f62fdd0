// Benchmark: what a hostile request costs a node before it is refused, over
// real HTTP/2: a gzip bomb, a body far larger than its method needs, a
// length prefix with no body behind it, and a normal 1 MiB send for scale.
// For each: the status, the time to the answer and the most memory (external
// and array buffers: where bodies and inflated bytes live) the process held
// above its level before the request. Prints a table; never part of `npm test`.
//   node --import tsx --conditions=@parley/source bench/node/intake.ts
import http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { mlsApi } from "@parley/proto";
import { mlsSamples, startTestNode } from "@parley/testkit";

const runs = Number(process.env.RUNS ?? 5);

function frame(payload: Uint8Array, compressed = false, declaredLength = payload.length): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, declaredLength);
  out.set(payload, 5);
  return out;
}

/** Status of one raw gRPC call; the request stays open when `end` is false. */
function call(path: string, body: Uint8Array, headers: http2.OutgoingHttpHeaders = {}, end = true): Promise<string> {
  // A connection of its own: a refused stream the client is still writing may take its session down.
  const session = http2.connect(node.url);
  session.on("error", () => undefined);
  return new Promise<string>((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] === undefined) return;
      resolve(String(h["grpc-status"]));
      stream.close();
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => undefined);
    stream.on("error", () => resolve("reset"));
    stream.write(body);
    if (end) stream.end();
  }).finally(() => session.destroy());
}

const held = () => {
  const usage = process.memoryUsage();
  return usage.external + usage.arrayBuffers;
};

async function measure(run: () => Promise<string>): Promise<{ status: string; ms: number; peakMiB: number }> {
  globalThis.gc?.();
  const base = held();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, held())), 1);
  const started = performance.now();
  const status = await run();
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, held());
  return { status, ms, peakMiB: (peak - base) / 2 ** 20 };
}

const node = await startTestNode({ host: "127.0.0.1" });
const samples = await mlsSamples(1);
const bomb = new Uint8Array(Buffer.concat(Array<Buffer>(40).fill(gzipSync(new Uint8Array(1024 * 1024)))));
const mls = "/xmtp.mls.api.v1.MlsApi";
const send = (data: Uint8Array) =>
  toBinary(mlsApi.SendGroupMessagesRequestSchema, create(mlsApi.SendGroupMessagesRequestSchema, { messages: [{ version: { case: "v1", value: { data } } }] }));
const normal = samples.applicationMessages[0] ?? new Uint8Array();

// The bodies are made before anything is measured: only what the node holds counts.
const bombFrame = frame(bomb, true);
const garbageFrame = frame(new Uint8Array(8 * 1024 * 1024).fill(0xff));
const emptyFrame = frame(new Uint8Array(), false, 8 * 1024 * 1024);
const normalFrame = frame(send(normal));
const cases: [string, () => Promise<string>][] = [
  [`gzip bomb, ${(bomb.length / 1024).toFixed(0)} KiB -> 40 MiB, FetchKeyPackages`, () => call(`${mls}/FetchKeyPackages`, bombFrame, { "grpc-encoding": "gzip" })],
  ["8 MiB of garbage, QueryGroupMessages", () => call(`${mls}/QueryGroupMessages`, garbageFrame)],
  ["8 MiB declared, no body, QueryGroupMessages", () => call(`${mls}/QueryGroupMessages`, emptyFrame, {}, false)],
  ["normal message, SendGroupMessages", () => call(`${mls}/SendGroupMessages`, normalFrame)],
];

console.log(`| request | status | ms (median of ${runs}) | most memory held (MiB, median) |`);
console.log("|---|---|---|---|");
for (const [name, run] of cases) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await measure(run));
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const status = [...new Set(results.map((r) => r.status))].join(",");
  console.log(`| ${name} | ${status} | ${median(results.map((r) => r.ms)).toFixed(1)} | ${median(results.map((r) => r.peakMiB)).toFixed(1)} |`);
}
await node.stop();
