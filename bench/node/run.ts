// What abusive streams cost a running node: its heap and what it holds
// (connections, calls, timers, topics listened to) after thousands of
// streams opened on history, stalled on flow control and reset, and while
// hundreds of stalled subscribers are held open. A printed table, not a
// test: run with `node --import tsx --conditions=@parley/source bench/node/run.ts`
// (BENCH_CYCLES sets the largest round, BENCH_HELD the stalled subscribers).
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { cpus, loadavg } from "node:os";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createLogger, SqliteStore, startNode, type RunningNode, type Validators } from "@parley/node";
import { mlsApi } from "@parley/proto";

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const MAX_CYCLES = Number(process.env["BENCH_CYCLES"] ?? 4000);
const HELD = Number(process.env["BENCH_HELD"] ?? 500);
const PARALLEL = 50;

// The subject is the transport and the streams, not MLS: a message's first 16 bytes name its group.
const validators: Validators = {
  keyPackage: () => Promise.reject(new Error("not used")),
  groupMessage: (data) => ({ groupId: data.slice(0, 16), isCommit: false }),
  identityUpdate: () => Promise.reject(new Error("not used")),
};

function subscribeBody(group: Uint8Array): Buffer {
  const bytes = toBinary(
    mlsApi.SubscribeGroupMessagesRequestSchema,
    create(mlsApi.SubscribeGroupMessagesRequestSchema, { filters: [{ groupId: group }] }),
  );
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** Opens a subscription that reads nothing past its first frame. */
async function stalled(session: http2.ClientHttp2Session, body: Buffer): Promise<http2.ClientHttp2Stream> {
  const stream = session.request({
    ":method": "POST",
    ":path": "/xmtp.mls.api.v1.MlsApi/SubscribeGroupMessages",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  stream.end(body);
  stream.pause();
  await new Promise((resolve) => stream.once("readable", resolve));
  return stream;
}

async function cycles(node: RunningNode, body: Buffer, count: number): Promise<void> {
  for (let done = 0; done < count; done += PARALLEL) {
    const session = http2.connect(`http://127.0.0.1:${node.port}`);
    session.on("error", () => undefined);
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const stream = await stalled(session, body);
        const closed = new Promise((resolve) => stream.once("close", resolve));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await closed;
      }),
    );
    session.destroy();
  }
}

async function atRest(node: RunningNode): Promise<void> {
  for (;;) {
    const load = node.load();
    if (load.connections + load.calls + load.timers + load.subscribedTopics === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);

function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log("command: node --import tsx --conditions=@parley/source bench/node/run.ts");
  console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(
    `setup: a node on 127.0.0.1 (in-memory store, default limits but a 300 ms idle deadline), one group with 8 messages of 32 KiB; ` +
      `${PARALLEL} streams at a time on a fresh HTTP/2 connection, each stalled after its first frame\n`,
  );
  const node = await startNode({
    store: new SqliteStore({ path: ":memory:" }),
    validators,
    logger: createLogger("silent"),
    port: 0,
    rateLimits: false,
    connectionLimits: { idleTimeoutMs: 300 },
  });
  const group = randomBytes(16);
  const mls = createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: node.url }));
  await mls.sendGroupMessages({
    messages: Array.from({ length: 8 }, () => {
      const data = randomBytes(32 * 1024);
      data.set(group, 0);
      return { version: { case: "v1" as const, value: { data } } };
    }),
  });
  const body = subscribeBody(group);
  const rows: [string, string, string][] = [];
  try {
    await cycles(node, body, 200);
    await atRest(node);
    const baseline = heap();
    rows.push(["after a warm-up of 200 cycles (baseline)", mib(baseline), JSON.stringify(node.load())]);
    let total = 200;
    for (let round = 500; round <= MAX_CYCLES; round *= 2) {
      await cycles(node, body, round);
      total += round;
      await atRest(node);
      const used = heap();
      rows.push([`after ${total} open/stall/reset cycles`, `${mib(used)} (${used >= baseline ? "+" : ""}${mib(used - baseline)})`, JSON.stringify(node.load())]);
    }

    const session = http2.connect(`http://127.0.0.1:${node.port}`);
    session.on("error", () => undefined);
    const sessions = [session];
    const held: http2.ClientHttp2Stream[] = [];
    for (let i = 0; i < HELD; i++) {
      // 100 streams per connection at most.
      if (i > 0 && i % 90 === 0) sessions.push(http2.connect(`http://127.0.0.1:${node.port}`).on("error", () => undefined));
      held.push(await stalled(sessions.at(-1)!, body));
    }
    const holding = heap();
    rows.push([
      `${HELD} stalled subscribers held open (per subscriber)`,
      `${mib(holding)} (+${((holding - baseline) / HELD / 1024).toFixed(1)} KiB)`,
      JSON.stringify(node.load()),
    ]);
    for (const stream of held) stream.close(http2.constants.NGHTTP2_CANCEL);
    for (const s of sessions) s.destroy();
    await atRest(node);
    const after = heap();
    rows.push(["after they are reset", `${mib(after)} (${after >= baseline ? "+" : ""}${mib(after - baseline)})`, JSON.stringify(node.load())]);
  } finally {
    await node.stop();
  }
  const width = Math.max(...rows.map(([what]) => what.length));
  console.log(`${"".padEnd(width)}  heap MiB (vs baseline)  node.load()`);
  for (const [what, used, load] of rows) console.log(`${what.padEnd(width)}  ${used.padEnd(22)}  ${load}`);
}

await main();
