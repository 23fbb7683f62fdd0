// What each attack costs a node with its default limits, and what a normal
// user notices meanwhile. For every attack of attacks.ts: a fresh node in a
// process of its own (embedded SQLite, defaults), a normal user (two
// @parley/client clients in a group, from 127.0.0.1) sending a message and
// the other member syncing it five times a second, and an attacker process
// from other loopback addresses. Printed: the node's peak memory and event
// loop stall, the p99 of the normal send and sync, the calls that failed,
// and whether anything the node acknowledged was lost (the member reads
// every acknowledged message once the attack is over).
//
// Run: npm run build && node --import tsx --conditions=@parley/source bench/attack/run.ts
// (the node runs from packages/node/dist, as deployed).
// Env: BENCH_ATTACKS=a,b (default: all), BENCH_SECONDS (default 20),
// BENCH_ADDRESSES (attacker addresses, default 8), BENCH_ATTACKER_NICE
// (default 19; 0 runs the attacker at the node's priority).
//
// The attacker runs at the lowest CPU priority: it stands in for an
// attacker on machines of its own, whose CPU is not the node's. It still
// gets every cycle the node and the normal user leave, and on a machine of
// two cores an attacker at the same priority measures how much CPU it
// takes from the node rather than what the node does with the attack.
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, setPriority, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Client, GroupMessageKind } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";
import { attacks } from "./attacks.js";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 20);
const ADDRESSES = Array.from({ length: Number(process.env["BENCH_ADDRESSES"] ?? 8) }, (_, i) => `127.0.0.${i + 2}`);
const CHOSEN = process.env["BENCH_ATTACKS"]?.split(",") ?? Object.keys(attacks);
const ATTACKER_NICE = Number(process.env["BENCH_ATTACKER_NICE"] ?? 19);
/** A normal call that takes longer than this counts as failed (and its time as this). */
const CALL_TIMEOUT_MS = 10_000;
const PACE_MS = 200;
const here = fileURLToPath(new URL(".", import.meta.url));
const execArgv = ["--import", "tsx", "--conditions=@parley/source"];
/** The node runs from its build: tsx only for node-process.ts itself. */
const nodeExecArgv = ["--import", "tsx"];

interface NodeReport {
  readonly peakRss: number;
  readonly peakHeap: number;
  readonly peakExternal: number;
  readonly rss: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const p99 = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!);

async function withTimeout<T>(run: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([run, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), CALL_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function startNodeProcess(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(here, "node-process.ts"), [join(dir, "node.db3")], { execArgv: nodeExecArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const [message] = (await once(child, "message")) as [{ port: number }];
  return { child, port: message.port };
}

async function nodeReport(child: ChildProcess): Promise<NodeReport> {
  child.send("report");
  const [message] = (await once(child, "message")) as [NodeReport];
  return message;
}

interface Row {
  readonly attack: string;
  readonly node: NodeReport;
  readonly sendP99: number;
  readonly syncP99: number;
  readonly failed: number;
  readonly calls: number;
  readonly acknowledged: number;
  readonly lost: number;
}

async function runOne(name: string): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-attack-"));
  const { child: node, port } = await startNodeProcess(dir);
  let attacker: ChildProcess | undefined;
  const apiUrl = `http://127.0.0.1:${port}`;
  const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { apiUrl, dbPath: join(dir, "alice.db3") });
  const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), { apiUrl, dbPath: join(dir, "bob.db3") });
  try {
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    if (bobs === undefined) throw new Error("bob did not join");
    await bobs.sync();

    node.send("reset");
    attacker = fork(join(here, "attacker.ts"), [name, String(port), group.id, ADDRESSES.join(",")], { execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    if (ATTACKER_NICE !== 0) setPriority(attacker.pid!, ATTACKER_NICE);
    await sleep(1000); // the attack gets going
    const sends: number[] = [];
    const syncs: number[] = [];
    const acknowledged: string[] = [];
    let failed = 0;
    const end = performance.now() + SECONDS * 1000;
    for (let i = 0; performance.now() < end; i += 1) {
      const text = `normal message ${i}`;
      const t0 = performance.now();
      try {
        await withTimeout(group.send(text));
        acknowledged.push(text);
      } catch {
        failed += 1;
      }
      const t1 = performance.now();
      try {
        await withTimeout(bobs.sync());
      } catch {
        failed += 1;
      }
      const t2 = performance.now();
      sends.push(t1 - t0);
      syncs.push(t2 - t1);
      await sleep(Math.max(0, PACE_MS - (t2 - t0)));
    }
    const report = await nodeReport(node);
    if (attacker.exitCode !== null) throw new Error(`the ${name} attacker stopped by itself (exit code ${attacker.exitCode})`);
    attacker.kill("SIGKILL");
    attacker = undefined;

    // Nothing acknowledged is lost: once the attack is over, the member reads every one.
    let read = new Set<string>();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await withTimeout(bobs.sync());
        read = new Set((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => (typeof m.content === "string" ? m.content : "")));
        if (acknowledged.every((text) => read.has(text))) break;
      } catch {
        // the node may still be shedding the attack
      }
      await sleep(1000);
    }
    return {
      attack: name,
      node: report,
      sendP99: p99(sends),
      syncP99: p99(syncs),
      failed,
      calls: sends.length + syncs.length,
      acknowledged: acknowledged.length,
      lost: acknowledged.filter((text) => !read.has(text)).length,
    };
  } finally {
    attacker?.kill("SIGKILL");
    alice.close();
    bob.close();
    node.send("stop");
    await Promise.race([once(node, "exit"), sleep(5000)]);
    node.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(here, "../../packages/node/dist/index.js"))) throw new Error("the node runs from its build: run `npm run build` first");
  const cpu = cpus();
  const env = ["BENCH_ATTACKS", "BENCH_SECONDS", "BENCH_ADDRESSES", "BENCH_ATTACKER_NICE"].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  console.log(`command: ${[...env, "node --import tsx --conditions=@parley/source bench/attack/run.ts"].join(" ")}`);
  console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, ${mib(totalmem())} MiB, node ${process.version}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(
    `setup: each attack against a fresh node process (packages/node/dist, embedded SQLite, default limits) for ${SECONDS} s from ${ADDRESSES.length} addresses (${ADDRESSES[0]}…) by an attacker process at nice ${ATTACKER_NICE}; ` +
      `meanwhile a normal user (127.0.0.1) sends one message and its peer syncs, every ${PACE_MS} ms; a call over ${CALL_TIMEOUT_MS / 1000} s counts as failed\n`,
  );
  const rows: Row[] = [];
  for (const name of CHOSEN) {
    if (attacks[name] === undefined) throw new Error(`no attack ${name}: ${Object.keys(attacks).join(", ")}`);
    rows.push(await runOne(name));
  }
  console.log("| attack | node peak RSS (MiB) | node peak heap / external (MiB) | node loop stall p99 / max (ms) | normal send p99 (ms) | normal sync p99 (ms) | failed calls | acknowledged | lost |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.attack} | ${mib(r.node.peakRss)} | ${mib(r.node.peakHeap)} / ${mib(r.node.peakExternal)} | ${r.node.loopDelayP99Ms.toFixed(0)} / ${r.node.loopDelayMaxMs.toFixed(0)} | ` +
        `${r.sendP99.toFixed(0)} | ${r.syncP99.toFixed(0)} | ${r.failed} / ${r.calls} | ${r.acknowledged} | ${r.lost} |`,
    );
  }
  console.log("\nattacks:");
  for (const name of CHOSEN) console.log(`- ${name}: ${attacks[name]!.what}`);
  console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}

await main();
