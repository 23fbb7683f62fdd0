// What one large buffer costs a node at its peak, per byte of it: the
// figures behind FOOTPRINT in packages/node/src/limits/memory-in-flight.ts.
// A node (the built package) in this process, rate limits off, and one call
// at a time over HTTP/2 from a client that reads at once: a page of
// QueryGroupMessages of a given size, and a gzip request that inflates to a
// given size. Printed: the most array-buffer memory the process held above
// its level before the call (sampled every millisecond, after a full
// collection), and that peak over the buffer's size.
//
// Run: npm run build && node --expose-gc --import tsx bench/attack/footprint.ts
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http2 from "node:http2";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createLogger, createXmtpValidators, SqliteStore, startNode } from "@parley/node";
import { mlsApi } from "@parley/proto";
import { privateMessageOfSize } from "@parley/testkit";

const MIB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function frame(body: Uint8Array, compressed: boolean): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(compressed ? 1 : 0, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** One call; resolves with the bytes of its answer once it is closed. */
function call(session: http2.ClientHttp2Session, method: string, body: Buffer, compressed = false): Promise<number> {
  return new Promise((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": `/xmtp.mls.api.v1.MlsApi/${method}`,
      "content-type": "application/grpc",
      te: "trailers",
      ...(compressed ? { "grpc-encoding": "gzip" } : {}),
    });
    let bytes = 0;
    stream.on("data", (chunk: Buffer) => (bytes += chunk.length));
    stream.on("error", () => undefined);
    stream.on("close", () => resolve(bytes));
    stream.end(body);
  });
}

/** The peak of array-buffer memory above its level before `run`, in bytes. */
async function peakOf(run: () => Promise<unknown>): Promise<number> {
  gc!();
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 1);
  await run();
  clearInterval(sampler);
  return peak - base;
}

const dir = mkdtempSync(join(tmpdir(), "parley-bench-footprint-"));
const node = await startNode({
  store: new SqliteStore({ path: join(dir, "node.db3") }),
  validators: createXmtpValidators(),
  logger: createLogger("silent"),
  host: "127.0.0.1",
  port: 0,
  rateLimits: false,
});
const session = http2.connect(`http://127.0.0.1:${node.port}`);
const rows: string[] = [];
try {
  for (const [count, size] of [
    [4, 256 * 1024],
    [20, 256 * 1024],
    [100, 256 * 1024],
    [5, 4 * MIB],
  ] as const) {
    const topic = randomBytes(16);
    for (let i = 0; i < count; i += 1) {
      const send = create(mlsApi.SendGroupMessagesRequestSchema, {
        messages: [{ version: { case: "v1", value: { data: privateMessageOfSize(topic, size), senderHmac: randomBytes(32), shouldPush: true } } }],
      });
      await call(session, "SendGroupMessages", frame(toBinary(mlsApi.SendGroupMessagesRequestSchema, send), false));
    }
    const query = frame(toBinary(mlsApi.QueryGroupMessagesRequestSchema, create(mlsApi.QueryGroupMessagesRequestSchema, { groupId: topic, pagingInfo: { limit: 100 } })), false);
    const peaks: number[] = [];
    let answer = 0;
    for (let round = 0; round < 3; round += 1) peaks.push(await peakOf(async () => (answer = await call(session, "QueryGroupMessages", query))));
    const worst = Math.max(...peaks);
    rows.push(`| answer: ${count} × ${(size / 1024).toFixed(0)} KiB | ${(answer / MIB).toFixed(1)} | ${(worst / MIB).toFixed(0)} | ${(worst / answer).toFixed(1)} |`);
  }
  for (const inflated of [5 * MIB, 20 * MIB, 45 * MIB]) {
    // Zeros: not a request that parses, which is the attacker's case (it is refused once inflated).
    const bomb = frame(gzipSync(Buffer.alloc(inflated), { level: 9 }), true);
    const peaks: number[] = [];
    for (let round = 0; round < 3; round += 1) peaks.push(await peakOf(() => call(session, "SendGroupMessages", bomb, true)));
    const worst = Math.max(...peaks);
    rows.push(`| gzip request inflating to ${(inflated / MIB).toFixed(0)} MiB | ${(inflated / MIB).toFixed(1)} | ${(worst / MIB).toFixed(0)} | ${(worst / inflated).toFixed(1)} |`);
  }
} finally {
  session.close();
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}

const cpu = cpus();
console.log("command: node --expose-gc --import tsx bench/attack/footprint.ts (node from packages/node/dist)");
console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, ${(totalmem() / MIB).toFixed(0)} MiB, node ${process.version}\n`);
console.log("| buffer | size (MiB) | peak array-buffer memory above the level before (MiB), worst of 3 | peak / size |");
console.log("|---|---:|---:|---:|");
for (const row of rows) console.log(row);
