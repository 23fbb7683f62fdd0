// Stored state written by an older version loads in this one: the fixture
// under test/store-fixture/v0 (the store before versioned migrations, see
// its README) is copied, opened with this code, upgraded (migrations/), and
// used with the node it was written against.
// Every conversation, message and unfinished intent it held must still be
// there, and each intent must finish: the welcome held back, the message
// never sent, the rename never sent.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import Database from "better-sqlite3-multiple-ciphers";
import { FIXTURE, FIXTURE_USERS, fixtureAddress, type FixtureUser } from "../../test/store-fixture/fixture-users.js";
import { Client, Group, GroupMessageKind, type Conversation } from "../index.js";
import { LocalStore } from "./local-store.js";
import { STORE_VERSION } from "./migrations/migrate.js";

const V0 = fileURLToPath(new URL("../../test/store-fixture/v0/", import.meta.url));

const texts = async (g: Conversation) => (await g.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

describe("@parley/client store: a database written before versioned migrations opens, upgrades and finishes its intents", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-store-v0-"));
  let node: InProcessTestNode;
  const clients = new Map<FixtureUser, Client>();

  before(() => {
    for (const file of readdirSync(V0).filter((f) => f.endsWith(".db"))) copyFileSync(join(V0, file), join(dir, file));
    node = createInProcessTestNode({ storePath: join(dir, "node.db") });
  });

  after(async () => {
    for (const client of clients.values()) client.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(user: FixtureUser): Promise<Client> {
    const client = await Client.build(await fixtureAddress(user), { ...node.clientOptions, dbPath: join(dir, `${user}.db`) });
    clients.set(user, client);
    return client;
  }

  const userVersion = (user: FixtureUser) => {
    const db = new Database(join(dir, `${user}.db`), { readonly: true });
    try {
      return Number(db.pragma("user_version", { simple: true }));
    } finally {
      db.close();
    }
  };

  it("the fixture is what the old store wrote: user_version 0", () => {
    for (const user of FIXTURE_USERS) assert.equal(userVersion(user), 0, user);
  });

  it("opened with this code, each is upgraded to the latest store version", async () => {
    for (const user of FIXTURE_USERS) await open(user);
    for (const user of FIXTURE_USERS) assert.equal(userVersion(user), STORE_VERSION, user);
  });

  it("every conversation and message is there, the unsent message among them", async () => {
    const alice = clients.get("alice")!;
    const names = alice.conversations.listGroups().map((g) => g.name).sort();
    assert.deepEqual(names, [FIXTURE.firstGroupName, FIXTURE.secondGroupName]);
    const g1 = alice.conversations.listGroups().find((g) => g.name === FIXTURE.firstGroupName);
    assert.ok(g1);
    assert.deepEqual(await texts(g1), FIXTURE.firstGroupTexts);
    const dm = alice.conversations.listDms()[0];
    assert.ok(dm);
    assert.deepEqual(await texts(dm), [...FIXTURE.dmTexts, FIXTURE.unsentDmText]);
  });

  it("the welcome held back is sent by the next sync, and Carol joins", async () => {
    const alice = clients.get("alice")!;
    const carol = clients.get("carol")!;
    const g1 = alice.conversations.listGroups().find((g) => g.name === FIXTURE.firstGroupName)!;
    await g1.sync();
    await carol.conversations.sync();
    const carols = carol.conversations.getConversationById(g1.id);
    assert.ok(carols instanceof Group, "Carol joined from the welcome the intent kept");
    assert.equal((await carols.members()).length, 3);
    assert.equal(carols.name, FIXTURE.firstGroupName);
  });

  it("the message never sent is published once, and the rename never sent lands", async () => {
    const alice = clients.get("alice")!;
    const bob = clients.get("bob")!;
    const dm = alice.conversations.listDms()[0]!;
    await dm.sync();
    const bobDm = bob.conversations.getDmByInboxId(alice.inboxId);
    assert.ok(bobDm);
    await bobDm.sync();
    assert.deepEqual(await texts(bobDm), [...FIXTURE.dmTexts, FIXTURE.unsentDmText]);

    const g2 = alice.conversations.listGroups().find((g) => g.name === FIXTURE.secondGroupName)!;
    await g2.sync();
    assert.equal(g2.name, FIXTURE.unsentName);
    const bobG2 = bob.conversations.getConversationById(g2.id);
    assert.ok(bobG2 instanceof Group);
    await bobG2.sync();
    assert.equal(bobG2.name, FIXTURE.unsentName);
  });

  it("the groups go on: a message after the upgrade reaches every member", async () => {
    const alice = clients.get("alice")!;
    const g1 = alice.conversations.getConversationById(alice.conversations.listGroups().find((g) => g.name === FIXTURE.firstGroupName)!.id)!;
    await g1.send("after the upgrade");
    for (const user of ["bob", "carol"] as const) {
      const theirs = clients.get(user)!.conversations.getConversationById(g1.id);
      assert.ok(theirs);
      await theirs.sync();
      assert.equal((await texts(theirs)).at(-1), "after the upgrade", user);
    }
  });

  it("nothing is left unfinished, and the pause is lifted", () => {
    for (const client of clients.values()) client.close();
    clients.clear();
    const store = new LocalStore(join(dir, "alice.db"));
    try {
      for (const group of store.groups()) {
        assert.equal(store.hasUnfinishedIntents(group.groupId), false);
        assert.equal(store.pausedForVersion(group.groupId), undefined);
      }
    } finally {
      store.close();
    }
  });
});
