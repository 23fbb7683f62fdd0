// Benchmark: replaying one inbox's full log of 256 identity updates (the
// node's cap), as a node does on every PublishIdentityUpdate and a client
// when it loads an inbox. Prints a table; never part of `npm test`.
//   node --import tsx --conditions=@parley/source bench/identity/run.ts
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import {
  applyIdentityUpdate,
  createPrivateKeySigner,
  createSignatureRequest,
  decodeIdentityUpdate,
  deriveInboxId,
  ethereumMember,
  installationIdFromKey,
  installationMember,
  installationPublicKey,
  maxIdentityUpdates,
  replayInbox,
  signerIdentifier,
  verifyIdentityUpdate,
  type ActionRequest,
  type AssociationState,
  type IdentityUpdateLogEntry,
  validateIdentityUpdate,
} from "@parley/identity";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

const runs = Number(process.env.RUNS ?? 10);

async function buildLog(): Promise<IdentityUpdateLogEntry[]> {
  const walletKey = sha256(utf8ToBytes("bench wallet"));
  const signer = createPrivateKeySigner(walletKey);
  const wallet = await signerIdentifier(signer);
  if (wallet.kind !== "ethereum") throw new Error("unreachable");
  const inboxId = deriveInboxId(ethereumMember(wallet.address), 0n);
  const installation = (i: number) => {
    const secretKey = sha256(utf8ToBytes(`bench installation ${i}`));
    return { secretKey, member: installationMember(installationIdFromKey(installationPublicKey(secretKey))) };
  };
  const entries: IdentityUpdateLogEntry[] = [];
  let time = 1_800_000_000_000_000_000n;
  // Update 1 registers; then installations are added and revoked in turn,
  // so every update carries one or two signatures.
  for (let i = 0; i < maxIdentityUpdates; i++) {
    const device = installation(Math.ceil(i / 2));
    const actions: ActionRequest[] =
      i === 0
        ? [
            { type: "createInbox", identifier: wallet, nonce: 0n },
            { type: "addAssociation", newMember: device.member, existingMember: wallet },
          ]
        : i % 2 === 1
          ? [{ type: "addAssociation", newMember: installation(i).member, existingMember: wallet }]
          : [{ type: "revokeAssociation", member: installation(i - 1).member, recoveryIdentifier: wallet }];
    const request = createSignatureRequest({ inboxId, clientTimestampNs: (time += 1_000_000_000n), actions });
    await request.signWith(signer);
    if (i === 0) request.signWithInstallationKey(device.secretKey);
    else if (i % 2 === 1) request.signWithInstallationKey(installation(i).secretKey);
    entries.push({ sequenceId: BigInt(i + 1), update: request.toBytes() });
  }
  return entries;
}

async function time(
  label: string,
  f: () => Promise<unknown>,
  updates = maxIdentityUpdates,
): Promise<{ label: string; ms: number[]; updates: number }> {
  await f(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await f();
    ms.push(performance.now() - start);
  }
  return { label, ms: ms.sort((a, b) => a - b), updates };
}

const log = await buildLog();
const bytes = log.reduce((n, e) => n + (e.update instanceof Uint8Array ? e.update.length : 0), 0);
const verified = await Promise.all(
  log.map((e) => verifyIdentityUpdate(decodeIdentityUpdate(e.update as Uint8Array))),
);

const before = await replayInbox(log.slice(0, -1));
if (!before.ok) throw before.error;
const stateOf255 = before.value;
const last = log.at(-1);
if (last === undefined) throw new Error("unreachable");

const rows = [
  await time("replayInbox: decode + verify + apply", async () => {
    const result = await replayInbox(log);
    if (!result.ok) throw result.error;
  }),
  await time("decode + verify signatures only", () =>
    Promise.all(log.map((e) => verifyIdentityUpdate(decodeIdentityUpdate(e.update as Uint8Array)))),
  ),
  await time("validateIdentityUpdate: the 256th update on the state of 255", async () => {
    const result = await validateIdentityUpdate(stateOf255, last.update, { sequenceId: last.sequenceId });
    if (!result.ok) throw result.error;
  }, 1),
  await time("apply rules only (pre-verified)", () => {
    let state: AssociationState | undefined;
    for (const [i, update] of verified.entries()) state = applyIdentityUpdate(state, update, { sequenceId: BigInt(i + 1) });
    return Promise.resolve(state);
  }),
];

const cpu = cpus();
console.log(`command: node --import tsx --conditions=@parley/source bench/identity/run.ts  (RUNS=${runs})`);
console.log(`machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, ${process.platform}/${process.arch}`);
const signatures = verified.flatMap((u) =>
  u.actions.flatMap((a) =>
    a.type === "createInbox"
      ? [a.initialIdentifierSignature]
      : a.type === "addAssociation"
        ? [a.existingMemberSignature, a.newMemberSignature]
        : [a.recoveryIdentifierSignature],
  ),
);
const distinct = (kind: string) =>
  new Set(signatures.filter((s) => s.kind === kind).map((s) => s.replayBytes.join())).size;
console.log(
  `inbox: ${log.length} updates (${bytes} bytes): ${distinct("erc191")} wallet (ECDSA recovery) and ${distinct("installationKey")} installation (Ed25519ph) signatures to verify`,
);
console.log("");
console.log("| what | median ms | min ms | max ms | per update µs (median) |");
console.log("|---|---:|---:|---:|---:|");
for (const { label, ms, updates } of rows) {
  const median = ms[Math.floor(ms.length / 2)] ?? NaN;
  console.log(
    `| ${label} | ${median.toFixed(1)} | ${(ms[0] ?? NaN).toFixed(1)} | ${(ms.at(-1) ?? NaN).toFixed(1)} | ${((median * 1000) / updates).toFixed(0)} |`,
  );
}
