// Writes a stored-state fixture: the databases of three installations
// (Alice, Bob, Carol) and of the node they used, with every table of the
// client store holding rows and Alice holding one unfinished intent of each
// kind a restart must finish. Run it with the code whose format the fixture
// is to keep:
//   node --import tsx --conditions=@parley/source packages/client/test/store-fixture/make-store-fixture.ts <dir>
// The fixture under v0/ was written by the store before versioned
// migrations (user_version 0); see v0/README.md. Re-running this script now
// writes the current format, which is no replacement for v0.
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { startTestNode } from "@parley/testkit";
import Database from "better-sqlite3";
import { Client, isClientError, MetadataField, PermissionPolicy, PermissionUpdateType } from "../../src/index.js";
import { LocalStore } from "../../src/store/local-store.js";
import { FIXTURE, fixtureSigner, type FixtureUser } from "./fixture-users.js";

const out = resolve(process.argv[2] ?? "fixture-out");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** Fails the next call of a method once armed: the stop a crash or a lost connection makes. */
function faults(): { interceptor: Interceptor; arm(method: string): void } {
  let armed: string | undefined;
  return {
    interceptor: (next) => async (req) => {
      if (armed !== req.method.name) return next(req);
      armed = undefined;
      throw new ConnectError("connection lost (fixture)", Code.Unavailable);
    },
    arm: (method) => {
      armed = method;
    },
  };
}

const isNetwork = (e: unknown) => isClientError(e) && e.code === "client.network";

const node = await startTestNode({ storePath: join(out, "node.db") });
const aliceFaults = faults();
const open = (user: FixtureUser, interceptors: Interceptor[] = []) =>
  Client.create(fixtureSigner(user), { apiUrl: node.url, dbPath: join(out, `${user}.db`), interceptors });
const alice = await open("alice", [aliceFaults.interceptor]);
const bob = await open("bob");
const carol = await open("carol");

// The first group: messages both ways, a permission change (a `permission` intent).
const g1 = await alice.conversations.createGroup([bob.inboxId], { groupName: FIXTURE.firstGroupName });
await bob.conversations.sync();
const bobG1 = bob.conversations.getConversationById(g1.id);
assert.ok(bobG1);
await g1.send(FIXTURE.firstGroupTexts[0]);
await bobG1.sync();
await bobG1.send(FIXTURE.firstGroupTexts[1]);
await g1.sync();
await g1.updatePermission(PermissionUpdateType.UpdateMetadata, PermissionPolicy.Admin, MetadataField.Description);
await bobG1.sync();

// A DM Bob opens: Alice joins from a welcome (a key package used) and answers.
const bobDm = await bob.conversations.createDm(alice.inboxId);
await bobDm.send(FIXTURE.dmTexts[0]);
await alice.conversations.sync();
const dm = alice.conversations.getDmByInboxId(bob.inboxId);
assert.ok(dm);
await dm.send(FIXTURE.dmTexts[1]);
await bobDm.sync();

// The second group: an admin named (an `admins` intent).
const g2 = await alice.conversations.createGroup([bob.inboxId], { groupName: FIXTURE.secondGroupName });
await g2.addAdmin(bob.inboxId);
await bob.conversations.sync();
const bobG2 = bob.conversations.getConversationById(g2.id);
assert.ok(bobG2);
await bobG2.sync();

// Unfinished, one of each: Carol's add is committed but its welcome never
// went out (a `membership` intent holding the Welcome and its recipients);
// a DM message never reached the node (a `message` intent); a rename never
// reached the node (a `metadata` intent).
aliceFaults.arm("SendWelcomeMessages");
await assert.rejects(g1.addMembers([carol.inboxId]), isNetwork);
// Bob takes the add commit now: its key package's lifetime (12 weeks) is
// checked when the commit is received, and the fixture must outlive it.
await bobG1.sync();
aliceFaults.arm("SendGroupMessages");
await assert.rejects(dm.send(FIXTURE.unsentDmText), isNetwork);
aliceFaults.arm("SendGroupMessages");
await assert.rejects(g2.updateName(FIXTURE.unsentName), isNetwork);

for (const client of [alice, bob, carol]) client.close();
await node.stop();

// A group paused by a commit that required a newer protocol version, which
// this version reads: the next sync lifts the pause. Only a forged commit
// makes one through the network; the store's own call writes the row.
const store = new LocalStore(join(out, "alice.db"));
store.setPausedForVersion(g1.groupIdBytes, FIXTURE.pausedForVersion);
store.close();

// Not read-only: the last connection to close folds and removes the WAL files.
const db = new Database(join(out, "alice.db"));
const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
for (const { name } of tables) {
  const { n } = db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number };
  console.log(`alice.db ${name}: ${n} rows`);
  assert.ok(n > 0, `alice.db: table ${name} is empty`);
}
for (const row of db.prepare("SELECT id, kind, state, recipients IS NOT NULL AS r FROM intents ORDER BY id").all()) console.log("intent", row);
db.close();
console.log(`fixture written to ${out}`);
