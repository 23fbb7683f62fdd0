// What a user of @parley/client waits for, end to end through a Parley node
// in this process (in-memory store, no rate limits) and each client's SQLite
// file on disk: registration, making a group, sending, a member reading what
// arrived, a member joining. A printed table, not a test: run with
// `node --import tsx --conditions=@parley/source bench/client/run.ts` (BENCH_MESSAGES sets the batch;
// BENCH_ENCRYPTED=1 gives every client a dbEncryptionKey, to see what encryption at rest costs).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client, GroupMessageKind } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import { startTestNode } from "@parley/testkit";

const MESSAGES = Number(process.env["BENCH_MESSAGES"] ?? 300);
const GROUP_SIZES = [2, 10, 25];
const ENCRYPTED = process.env["BENCH_ENCRYPTED"] === "1";

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await run();
  return [value, performance.now() - t0];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const cpu = cpus();
  console.log("command: node --import tsx --conditions=@parley/source bench/client/run.ts");
  console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(
    `setup: a Parley node in process (in-memory store, no rate limits), each client's SQLite file on local disk${ENCRYPTED ? " encrypted (dbEncryptionKey)" : ""}; ${MESSAGES} text messages of ~40 bytes\n`,
  );
  const node = await startTestNode();
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-client-"));
  let n = 0;
  const newClient = () =>
    Client.create(createPrivateKeySigner(randomBytes(32)), {
      apiUrl: node.url,
      dbPath: join(dir, `c${(n += 1)}.db3`),
      ...(ENCRYPTED ? { dbEncryptionKey: randomBytes(32) } : {}),
    });
  const rows: [string, string][] = [];
  try {
    const registrations: number[] = [];
    const clients: Client[] = [];
    for (let i = 0; i < Math.max(...GROUP_SIZES); i += 1) {
      const [client, ms] = await timed(newClient);
      clients.push(client);
      registrations.push(ms);
    }
    rows.push([`Client.create, new inbox (ms, median of ${registrations.length})`, median(registrations).toFixed(1)]);

    for (const size of GROUP_SIZES) {
      const [creator, ...others] = clients.slice(0, size);
      const [group, createMs] = await timed(() => creator!.conversations.createGroup(others.map((c) => c.inboxId)));
      rows.push([`createGroup with ${size - 1} members, welcomes sent (ms)`, createMs.toFixed(1)]);
      const joiner = others[0]!;
      const [, joinMs] = await timed(() => joiner.conversations.sync());
      rows.push([`a member joins from the welcome, ${size} members (ms)`, joinMs.toFixed(1)]);
      if (size !== GROUP_SIZES[0]) continue;

      const joined = joiner.conversations.getConversationById(group.id)!;
      await joined.sync();
      await joined.send("warm-up (the joiner's key update comes first)");
      await group.sync();
      const [, sendMs] = await timed(async () => {
        for (let i = 0; i < MESSAGES; i += 1) await group.send(`message number ${i} of the benchmark run`);
      });
      rows.push([`send, one after another (msg/s)`, (MESSAGES / (sendMs / 1000)).toFixed(0)]);
      const [, syncMs] = await timed(() => joined.sync());
      rows.push([`a member syncs ${MESSAGES} new messages (msg/s)`, (MESSAGES / (syncMs / 1000)).toFixed(0)]);
      const [listed, listMs] = await timed(() => joined.messages({ kind: GroupMessageKind.Application }));
      if (listed.length !== MESSAGES + 1) throw new Error(`read ${listed.length} messages, expected ${MESSAGES + 1}`);
      rows.push([`messages() of ${listed.length} stored (ms)`, listMs.toFixed(1)]);
      const [, renameMs] = await timed(() => group.updateName("renamed"));
      rows.push([`a metadata commit, published and merged, ${size} members (ms)`, renameMs.toFixed(1)]);
    }
    for (const c of clients) c.close();
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${"step".padEnd(w)} | figure |`);
  console.log(`|${"-".repeat(w + 2)}|-------:|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v.padStart(6)} |`);
}

await main();
