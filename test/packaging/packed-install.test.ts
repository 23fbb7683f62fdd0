// The packages as a user gets them: built, packed with `npm pack`, installed
// into an empty folder outside this repository, and driven there through
// their public API only.
//
// - @parley/mls installed with scripts off still runs a mended engine: a
//   member removed on its own can't read what follows. An engine loaded
//   before it, of another version, or whose text differs refuses to start
//   with `mls.engine_unverified`.
// - Every public package together: a node started from the installed
//   `parley` command, two clients that register (one with its database
//   encrypted), make a group and exchange a message.
//
// The registry's packages (ts-mls, better-sqlite3, ...) come from npm's
// cache where this machine has them.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const PUBLIC_PACKAGES = ["@parley/proto", "@parley/mls", "@parley/identity", "@parley/node", "@parley/client", "parley"];
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const scratch = mkdtempSync(join(tmpdir(), "parley-packed-"));

function run(cmd: string, args: string[], cwd: string): string {
  // An install compiles both native addons from source where no prebuilt
  // binary can be fetched (a few minutes on a loaded 2-core machine).
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 540_000 });
}

/** Runs a program in `dir` and returns the JSON it prints last. */
function runProgram(dir: string, name: string, source: string): unknown {
  writeFileSync(join(dir, name), source);
  const result = spawnSync(process.execPath, [name], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  assert.equal(result.status, 0, `${name} failed:\n${result.stdout}\n${result.stderr}`);
  const lines = result.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] ?? "null");
}

function emptyProject(name: string): string {
  const dir = join(scratch, name);
  run("mkdir", ["-p", dir], scratch);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `try-${name}`, private: true, type: "module" }));
  return dir;
}

const tarballs = new Map<string, string>();

before(() => {
  run(npm, ["run", "build", "--silent"], repo);
  const packed = JSON.parse(
    run(npm, ["pack", "--json", "--pack-destination", scratch, ...PUBLIC_PACKAGES.flatMap((p) => ["--workspace", p])], repo),
  ) as { name: string; filename: string; files: { path: string }[] }[];
  for (const p of packed) {
    tarballs.set(p.name, join(scratch, p.filename));
    // What a user installs: built JavaScript with declarations, no sources or tests.
    assert.ok(p.files.some((f) => f.path === "dist/index.js" && p.files.some((g) => g.path === "dist/index.d.ts")), p.name);
    assert.ok(!p.files.some((f) => f.path.startsWith("src/") || f.path.includes(".test.")), `${p.name} ships sources or tests`);
  }
  assert.deepEqual([...tarballs.keys()].sort(), [...PUBLIC_PACKAGES].sort());
});

after(() => rmSync(scratch, { recursive: true, force: true }));

const REMOVAL = `
import { asInboxId, createGroup, createKeyPackage, ed25519Keygen, encryptMessage, groupMembers, isRemoved,
  joinFromWelcome, processMessage, updateMembership } from "@parley/mls";
import { encode, messageContents } from "@parley/proto";

const allowAll = () => true;
const hex = (b) => Buffer.from(b).toString("hex");
const membership = (members) => encode(messageContents.GroupMembershipSchema,
  { $typeName: "xmtp.mls.message_contents.GroupMembership", members, failedInstallations: [] });
async function installation(name) {
  const inboxId = asInboxId(name.padEnd(64, "0"));
  const { signKey } = ed25519Keygen();
  return { inboxId, privateKey: signKey, bundle: await createKeyPackage({ inboxId, privateKey: signKey }) };
}
const [alice, bob, carol] = await Promise.all([installation("a"), installation("b"), installation("c")]);
const extensions = {
  immutableMetadata: encode(messageContents.GroupMetadataV1Schema, { $typeName: "xmtp.mls.message_contents.GroupMetadataV1",
    conversationType: messageContents.ConversationType.GROUP, creatorAccountAddress: "", creatorInboxId: alice.inboxId }),
  mutableMetadata: encode(messageContents.GroupMutableMetadataV1Schema, { $typeName: "xmtp.mls.message_contents.GroupMutableMetadataV1",
    attributes: { group_name: "" } }),
  membership: membership({ [alice.inboxId]: 0n }),
  permissions: new Uint8Array(0),
};
let a = await createGroup({ signer: alice, extensions, authenticate: allowAll });
const add = await updateMembership(a, { add: [bob.bundle.keyPackage, carol.bundle.keyPackage],
  membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [carol.inboxId]: 1n }), authenticate: allowAll });
a = add.state;
const join = async (who) => (await joinFromWelcome({ welcome: add.welcome, keyPackage: who.bundle.keyPackage,
  privateKeyPackage: who.bundle.privateKeyPackage, authenticate: allowAll })).state;
const b = await join(bob);
const c = await join(carol);

const remove = await updateMembership(a, { remove: [carol.bundle.installationKey],
  membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }), authenticate: allowAll });
const aliceKey = (state) => hex(groupMembers(state).find((m) => m.leafIndex === 0).encryptionKey);
const next = await encryptMessage(remove.state, new TextEncoder().encode("after carol"));
const carolSees = await processMessage(c, remove.commit, allowAll);
const carolReads = await processMessage(carolSees.state, next.message, allowAll);
const bobSees = await processMessage(b, remove.commit, allowAll);
const bobReads = await processMessage(bobSees.state, next.message, allowAll);
console.log(JSON.stringify({
  pathRotatedCommitterKey: aliceKey(remove.state) !== aliceKey(a),
  carolRemoved: isRemoved(carolSees.state),
  carolReads: carolReads.kind,
  bobReads: bobReads.kind === "application" ? new TextDecoder().decode(bobReads.plaintext) : bobReads.kind,
}));
`;

const START = `
try {
  await import("@parley/mls");
  console.log(JSON.stringify({ started: true }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
}
`;

describe("@parley/mls installed from its tarball with scripts off", { timeout: 300_000 }, () => {
  let dir = "";
  before(() => {
    dir = emptyProject("mls");
    const wanted = ["@parley/proto", "@parley/mls"].map((name) => tarballs.get(name) ?? "");
    run(npm, ["install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", ...wanted], dir);
  });

  it("runs the mended engine: a member removed on its own can't read the next message", () => {
    assert.deepEqual(runProgram(dir, "removal.mjs", REMOVAL), {
      pathRotatedCommitterKey: true,
      carolRemoved: true,
      carolReads: "wrong_epoch",
      bobReads: "after carol",
    });
  });

  it("refuses to start when ts-mls was loaded first", () => {
    const outcome = runProgram(dir, "preloaded.mjs", `await import("ts-mls");\n${START}`) as Record<string, string>;
    assert.equal(outcome.code, "mls.engine_unverified");
    assert.equal(outcome.name, "MlsError");
  });

  it("refuses to start on another ts-mls version", () => {
    const manifestPath = join(dir, "node_modules/ts-mls/package.json");
    const original = readFileSync(manifestPath, "utf8");
    try {
      writeFileSync(manifestPath, original.replace(/"version": "[^"]+"/, '"version": "2.0.0-rc.11"'));
      const outcome = runProgram(dir, "other-version.mjs", START) as Record<string, string>;
      assert.equal(outcome.code, "mls.engine_unverified");
      assert.match(outcome.message ?? "", /2\.0\.0-rc\.11/);
    } finally {
      writeFileSync(manifestPath, original);
    }
  });

  it("refuses to start when a mended text is not in the engine", () => {
    const file = join(dir, "node_modules/ts-mls/dist/src/clientState.js");
    const original = readFileSync(file, "utf8");
    try {
      assert.ok(original.includes("const needsUpdatePath = allProposals.length === 0 ||"));
      writeFileSync(file, original.replace("const needsUpdatePath = allProposals.length === 0 ||", "const needsUpdatePath = (allProposals.length === 0) ||"));
      const outcome = runProgram(dir, "changed-text.mjs", START) as Record<string, string>;
      assert.equal(outcome.code, "mls.engine_unverified");
    } finally {
      writeFileSync(file, original);
    }
    assert.deepEqual(runProgram(dir, "restored.mjs", START), { started: true });
  });
});

const CHAT = `
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Client } from "@parley/client";
import { createPrivateKeySigner } from "@parley/identity";

const node = spawn(process.execPath, ["node_modules/parley/bin/parley.mjs", "node", "start", "--host", "127.0.0.1",
  "--port", "0", "--db", "node.db", "--log-level", "info"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let log = "";
  const timer = setTimeout(() => reject(new Error("no node listening: " + log)), 30000);
  node.stdout.setEncoding("utf8");
  node.stdout.on("data", (chunk) => {
    log += chunk;
    const line = log.split("\\n").find((l) => l.includes('"node listening"'));
    if (line) { clearTimeout(timer); resolve(JSON.parse(line).url); }
  });
  node.once("exit", (code) => reject(new Error("node exited " + code + ": " + log)));
});
try {
  // Alice's database encrypted: the cipher build installed from the registry works.
  const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: url, dbPath: "alice.db", dbEncryptionKey: randomBytes(32) });
  const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: url, dbPath: "bob.db" });
  const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "packed" });
  await group.sendText("hello from a packed install");
  await bob.conversations.sync();
  const bobs = bob.conversations.getConversationById(group.id);
  await bobs.sync();
  const texts = (await bobs.messages()).filter((m) => typeof m.content === "string").map((m) => m.content);
  console.log(JSON.stringify({ name: bobs.name, texts, members: (await bobs.members()).length }));
} finally {
  node.kill("SIGTERM");
}
`;

describe("every public package installed from its tarball", { timeout: 900_000 }, () => {
  it("runs a node from the installed command, and two clients that chat through it", () => {
    const dir = emptyProject("all");
    run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", ...PUBLIC_PACKAGES.map((name) => tarballs.get(name) ?? "")], dir);
    assert.deepEqual(runProgram(dir, "chat.mjs", CHAT), {
      name: "packed",
      texts: ["hello from a packed install"],
      members: 2,
    });
  });
});
