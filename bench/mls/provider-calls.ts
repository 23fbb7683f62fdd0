// Where the time goes, by provider call: wraps every method of our
// CiphersuiteImpl with a timer and runs two paths, application messages
// (encrypt + decrypt) and processing fresh self-updates at 252 members.
// Our provider does all its work synchronously before returning its promise,
// so timing the synchronous part is exact even where ts-mls runs calls
// concurrently (Promise.all in tree hashing); what is not in the listed
// calls is the engine (ts-mls's encoding, tree walks, copies). The default
// provider's work is truly asynchronous, so only its totals are shown.
// Run: node --import tsx --conditions=@parley/source bench/mls/provider-calls.ts
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { CiphersuiteImpl, ClientState, MlsContext } from "ts-mls";
import { nodeCryptoProvider, tsMls, xmtpClientConfig } from "@parley/mls";

// The engine as @parley/mls loads it (mended and verified): importing
// ts-mls first would make @parley/mls refuse to start.
const { createApplicationMessage, createCommit, createGroup, defaultCapabilities, defaultCryptoProvider, generateKeyPackage, joinGroup, processPrivateMessage, unsafeTestingAuthenticationService } = tsMls;

type Totals = Map<string, { ms: number; calls: number }>;

/** The same object with the synchronous part of every method timed into `totals`. */
function timed<T extends object>(name: string, target: T, totals: Totals): T {
  const source = target as Record<string, unknown>;
  const out: Record<string, unknown> = { ...source };
  for (const [key, value] of Object.entries(source)) {
    if (typeof value !== "function") continue;
    const fn = value as (...args: unknown[]) => unknown;
    out[key] = (...args: unknown[]) => {
      const t0 = performance.now();
      const result = fn.apply(target, args);
      const entry = totals.get(`${name}.${key}`) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - t0;
      entry.calls += 1;
      totals.set(`${name}.${key}`, entry);
      return result;
    };
  }
  return out as T;
}

function instrument(cs: CiphersuiteImpl, totals: Totals, on: boolean): CiphersuiteImpl {
  if (!on) return cs;
  return {
    ...cs,
    hash: timed("hash", cs.hash, totals),
    kdf: timed("kdf", cs.kdf, totals),
    hpke: timed("hpke", cs.hpke, totals),
    signature: timed("signature", cs.signature, totals),
  };
}

async function twoMembers(ctx: MlsContext, extra: number): Promise<[ClientState, ClientState]> {
  const cs = ctx.cipherSuite;
  const kp = (name: string) =>
    generateKeyPackage({ credential: { credentialType: 1, identity: new TextEncoder().encode(name) }, capabilities: defaultCapabilities(), cipherSuite: cs });
  const alice = await kp("alice");
  const bob = await kp("bob");
  const others = [];
  for (let i = 0; i < extra; i++) others.push(await kp(`m${i}`));
  const a0 = await createGroup({ context: ctx, groupId: new Uint8Array([1]), keyPackage: alice.publicPackage, privateKeyPackage: alice.privatePackage });
  const add = await createCommit({
    context: ctx,
    state: a0,
    extraProposals: [bob, ...others].map((k) => ({ proposalType: 1 as const, add: { keyPackage: k.publicPackage } })),
    ratchetTreeExtension: true,
  });
  const b = await joinGroup({ context: ctx, welcome: add.welcome!.welcome, keyPackage: bob.publicPackage, privateKeys: bob.privatePackage });
  return [add.newState, b];
}

function report(title: string, totals: Totals, units: number, elapsedMs: number): void {
  console.log(`\n${title}: ${((elapsedMs * 1000) / units).toFixed(0)} us each`);
  if (totals.size === 0) return;
  let inCalls = 0;
  for (const [key, { ms, calls }] of [...totals].sort((x, y) => y[1].ms - x[1].ms)) {
    inCalls += ms;
    console.log(`  ${key.padEnd(26)} ${((ms * 1000) / units).toFixed(1).padStart(8)} us  ${(calls / units).toFixed(1).padStart(6)} calls`);
  }
  console.log(`  ${"(engine and the rest)".padEnd(26)} ${(((elapsedMs - inCalls) * 1000) / units).toFixed(1).padStart(8)} us`);
}

async function applicationMessages(label: string, cs: CiphersuiteImpl, on: boolean): Promise<void> {
  const totals: Totals = new Map();
  const ctx: MlsContext = { cipherSuite: instrument(cs, totals, on), authService: unsafeTestingAuthenticationService, clientConfig: xmtpClientConfig() };
  let [a, b] = await twoMembers(ctx, 0);
  const payload = new Uint8Array(200);
  const send = async () => {
    const m = await createApplicationMessage({ context: ctx, state: a, message: payload });
    a = m.newState;
    if (m.message.wireformat !== 2) throw new Error("expected a PrivateMessage");
    b = (await processPrivateMessage({ context: ctx, state: b, privateMessage: m.message.privateMessage })).newState;
  };
  for (let i = 0; i < 100; i++) await send();
  totals.clear();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    await send();
    n++;
  }
  report(`${label}, application message encrypt+decrypt`, totals, n, performance.now() - t0);
}

async function selfUpdates(label: string, cs: CiphersuiteImpl, on: boolean): Promise<void> {
  const totals: Totals = new Map();
  const ctx: MlsContext = { cipherSuite: instrument(cs, totals, on), authService: unsafeTestingAuthenticationService, clientConfig: xmtpClientConfig() };
  const [a, b] = await twoMembers(ctx, 250);
  const commits = [];
  for (let i = 0; i < 20; i++) {
    const u = await createCommit({ context: ctx, state: b });
    if (u.commit.wireformat !== 2) throw new Error("expected a PrivateMessage");
    commits.push(u.commit.privateMessage);
  }
  totals.clear();
  const t0 = performance.now();
  for (const pm of commits) await processPrivateMessage({ context: ctx, state: a, privateMessage: pm });
  report(`${label}, processing a fresh self-update at 252 members`, totals, commits.length, performance.now() - t0);
}

const cpu = cpus();
console.log("command: node --import tsx --conditions=@parley/source bench/mls/provider-calls.ts");
console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`);
console.log("(the timing wrappers add a little to every call)");
for (const [label, provider, on] of [
  ["@parley/mls node:crypto", nodeCryptoProvider, true],
  ["ts-mls default (totals only)", defaultCryptoProvider, false],
] as const) {
  const cs = await provider.getCiphersuiteImpl(3);
  await applicationMessages(label, cs, on);
  await selfUpdates(label, cs, on);
}
