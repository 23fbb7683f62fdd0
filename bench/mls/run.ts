// Benchmark of @parley/mls's node:crypto provider against ts-mls with its
// default provider, on the same engine, configuration and steps. A printed
// table, not a test: run with `node --import tsx --conditions=@parley/source bench/mls/run.ts`.
// Goals (2 cores): application messages >= 8x the default
// provider; processing a commit at 250 members >= 2x, a self-update
// processed in <= 20 ms; joining a 250-member group in <= 100 ms.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { CiphersuiteImpl, ClientState, KeyPackage, MlsContext, PrivateKeyPackage } from "ts-mls";
import { nodeCryptoProvider, tsMls, xmtpClientConfig } from "@parley/mls";

// The engine as @parley/mls loads it (mended and verified): importing
// ts-mls first would make @parley/mls refuse to start.
const { createApplicationMessage, createCommit, createGroup, defaultCapabilities, defaultCryptoProvider, generateKeyPackage, joinGroup, processPrivateMessage, unsafeTestingAuthenticationService } = tsMls;

const SIZES = [10, 100, 250];
const SUITE = 3;

interface Member {
  keyPackage: KeyPackage;
  privateKeys: PrivateKeyPackage;
}

function context(cs: CiphersuiteImpl): MlsContext {
  return { cipherSuite: cs, authService: unsafeTestingAuthenticationService, clientConfig: xmtpClientConfig() };
}

async function member(cs: CiphersuiteImpl, name: string): Promise<Member> {
  const r = await generateKeyPackage({
    credential: { credentialType: 1, identity: new TextEncoder().encode(name) },
    capabilities: defaultCapabilities(),
    cipherSuite: cs,
  });
  return { keyPackage: r.publicPackage, privateKeys: r.privatePackage };
}

async function time<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

async function median(runs: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await time(f))[1]);
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)]!;
}

type Row = Record<string, number>;

async function measure(cs: CiphersuiteImpl, sizes: readonly number[]): Promise<Row> {
  const ctx = context(cs);
  const row: Row = {};
  let n = 0;
  row["key package create (ms)"] = await median(20, () => member(cs, `kp${n++}`));

  for (const size of sizes) {
    const creator = await member(cs, "creator");
    const bob = await member(cs, "bob");
    const joiners: Member[] = [];
    for (let i = 0; i < size; i++) joiners.push(await member(cs, `m${size}-${i}`));
    let alice = await createGroup({ context: ctx, groupId: new TextEncoder().encode(`g${size}`), keyPackage: creator.keyPackage, privateKeyPackage: creator.privateKeys });
    const addBob = await createCommit({ context: ctx, state: alice, extraProposals: [{ proposalType: 1, add: { keyPackage: bob.keyPackage } }], ratchetTreeExtension: true });
    alice = addBob.newState;
    let b: ClientState = await joinGroup({ context: ctx, welcome: addBob.welcome!.welcome, keyPackage: bob.keyPackage, privateKeys: bob.privateKeys });

    const [add, createMs] = await time(() =>
      createCommit({
        context: ctx,
        state: alice,
        extraProposals: joiners.map((j) => ({ proposalType: 1 as const, add: { keyPackage: j.keyPackage } })),
        ratchetTreeExtension: true,
      }),
    );
    alice = add.newState;
    if (add.commit.wireformat !== 2) throw new Error("expected a PrivateMessage");
    const commitMsg = add.commit.privateMessage;
    const [processed, processMs] = await time(() => processPrivateMessage({ context: ctx, state: b, privateMessage: commitMsg }));
    b = processed.newState;
    const last = joiners[joiners.length - 1]!;
    const [, joinMs] = await time(() => joinGroup({ context: ctx, welcome: add.welcome!.welcome, keyPackage: last.keyPackage, privateKeys: last.privateKeys }));
    row[`create commit adding ${size} (ms)`] = createMs;
    row[`member processes it, ${size + 2} members (ms)`] = processMs;
    row[`new member joins, ${size + 2} members (ms)`] = joinMs;

    if (size === sizes[sizes.length - 1]) {
      // Five fresh self-updates from the same member, each processed by the
      // creator: the median of each side.
      const createTimes: number[] = [];
      const processTimes: number[] = [];
      let update: Awaited<ReturnType<typeof createCommit>> | undefined;
      for (let i = 0; i < 5; i++) {
        const [u, createMsOne] = await time(() => createCommit({ context: ctx, state: b }));
        if (u.commit.wireformat !== 2) throw new Error("expected a PrivateMessage");
        const msg = u.commit.privateMessage;
        const [, processMsOne] = await time(() => processPrivateMessage({ context: ctx, state: alice, privateMessage: msg }));
        createTimes.push(createMsOne);
        processTimes.push(processMsOne);
        update = u;
      }
      const mid = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      if (update?.commit.wireformat !== 2) throw new Error("expected a PrivateMessage");
      const updateMsg = update.commit.privateMessage;
      row[`self-update create, ${size + 2} members (ms)`] = mid(createTimes);
      row[`self-update process, ${size + 2} members (ms)`] = mid(processTimes);
      b = update.newState;
      const payload = new Uint8Array(200).fill(1);
      let sent = 0;
      let a2 = (await processPrivateMessage({ context: ctx, state: alice, privateMessage: updateMsg })).newState;
      const start = performance.now();
      while (performance.now() - start < 1500) {
        const m = await createApplicationMessage({ context: ctx, state: a2, message: payload });
        a2 = m.newState;
        if (m.message.wireformat !== 2) throw new Error("expected a PrivateMessage");
        b = (await processPrivateMessage({ context: ctx, state: b, privateMessage: m.message.privateMessage })).newState;
        sent++;
      }
      row["application encrypt+decrypt (msg/s)"] = sent / ((performance.now() - start) / 1000);
    }
  }
  return row;
}

function medians(passes: readonly Row[]): Row {
  const out: Row = {};
  for (const key of Object.keys(passes[0]!)) {
    const values = passes.map((p) => p[key]!).sort((x, y) => x - y);
    out[key] = values[Math.floor(values.length / 2)]!;
  }
  return out;
}

/**
 * One warm-up pass each (JIT), then `runs` passes alternating between the
 * two providers, so that load from elsewhere on the machine falls on both
 * alike; the median of each figure.
 */
async function compare(ours: CiphersuiteImpl, theirs: CiphersuiteImpl, runs: number): Promise<[Row, Row]> {
  await measure(ours, [10]);
  await measure(theirs, [10]);
  const a: Row[] = [];
  const b: Row[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await measure(ours, SIZES));
    b.push(await measure(theirs, SIZES));
  }
  return [medians(a), medians(b)];
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(`command: node --import tsx --conditions=@parley/source bench/mls/run.ts`);
  console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}`);
  // Other work on the machine skews single runs; the load says how much.
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`engine: ts-mls (same version, same XMTP client config); suite ${SUITE}; 200-byte application payloads`);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  console.log(`figures: median of ${runs} passes per provider, alternating, after a warm-up pass each\n`);
  const [ours, theirs] = await compare(
    await nodeCryptoProvider.getCiphersuiteImpl(SUITE),
    await defaultCryptoProvider.getCiphersuiteImpl(SUITE),
    runs,
  );
  const rows = Object.keys(ours);
  const w = Math.max(...rows.map((r) => r.length));
  console.log(`| ${"step".padEnd(w)} | ts-mls default | @parley/mls node:crypto | ratio |`);
  console.log(`|${"-".repeat(w + 2)}|---------------:|------------------------:|------:|`);
  for (const r of rows) {
    const o = ours[r]!;
    const t = theirs[r]!;
    const ratio = r.includes("msg/s") ? o / t : t / o;
    console.log(`| ${r.padEnd(w)} | ${t.toFixed(1).padStart(14)} | ${o.toFixed(1).padStart(23)} | ${ratio.toFixed(1).padStart(4)}x |`);
  }
}

await main();
