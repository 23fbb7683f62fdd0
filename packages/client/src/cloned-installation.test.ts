// A copy of an installation's database (a stolen device state, a restored
// backup) running beside the original: what it signs with our installation
// key and we did not make is reported, so the app can revoke the
// installation. The copy here is the real client opened on a copy of the
// original's database file.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { asInboxId, createKeyPackage } from "@parley/mls";
import { createApiClient } from "./api/api-client.js";
import { Client, Group, GroupMessageKind, type ClonedInstallationReport } from "./index.js";
import { LocalStore } from "./store/local-store.js";

describe("@parley/client: a cloned installation is noticed", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;
  let dir: string;
  before(() => {
    node = createInProcessTestNode();
    dir = mkdtempSync(join(tmpdir(), "parley-clone-"));
  });
  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Alice, with what she reports and logs, and a copy of her database opened as a second client. */
  async function aliceAndClone(name: string, interceptors: Interceptor[] = []) {
    const signerKey = randomBytes(32);
    const reports: ClonedInstallationReport[] = [];
    const logged: Record<string, unknown>[] = [];
    const logger = { warn: (fields: Record<string, unknown>) => logged.push(fields), error: (fields: Record<string, unknown>) => logged.push(fields) };
    const dbPath = join(dir, `${name}.db`);
    const open = (path: string, extra: Partial<Parameters<typeof Client.create>[1]> = {}) =>
      Client.create(createPrivateKeySigner(signerKey), { ...node.clientOptions, dbPath: path, ...extra });
    let alice = await open(dbPath);
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await bob.conversations.sync();
    const bobsGroup = bob.conversations.getConversationById(group.id);
    assert.ok(bobsGroup instanceof Group);
    alice.close();
    copyFileSync(dbPath, join(dir, `${name}-clone.db`));
    const clone = await open(join(dir, `${name}-clone.db`));
    alice = await open(dbPath, { interceptors, logger, onInstallationCloned: (report) => reports.push(report) });
    assert.equal(clone.installationId, alice.installationId, "the copy is the same installation");
    return { alice, clone, bob, bobsGroup, reports, logged, groupId: group.id };
  }

  const cloneLogs = (logged: Record<string, unknown>[]) => logged.filter((f) => f["code"] === "security.installation_cloned");

  it("a commit signed with our leaf key that we did not make is reported, and not applied as ours", async () => {
    const { alice, clone, bob, reports, logged, groupId } = await aliceAndClone("commit");
    const clonesGroup = clone.conversations.getConversationById(groupId);
    assert.ok(clonesGroup instanceof Group);
    await clonesGroup.updateName("renamed by the clone");
    const alicesGroup = alice.conversations.getConversationById(groupId);
    assert.ok(alicesGroup instanceof Group);
    await alicesGroup.sync();
    assert.deepEqual(
      reports.map((r) => [r.evidence, r.groupId]),
      [["commit", groupId]],
    );
    assert.equal(cloneLogs(logged).length, 1, "logged under its code");
    assert.ok(logged.some((f) => f["code"] === "refused.cloned_installation"), "the envelope is refused under its own code");
    alice.close();
    clone.close();
    bob.close();
  });

  it("a message signed with our leaf key that we did not send is reported and not listed", async () => {
    const { alice, clone, bob, bobsGroup, reports, logged, groupId } = await aliceAndClone("message");
    const clonesGroup = clone.conversations.getConversationById(groupId);
    assert.ok(clonesGroup instanceof Group);
    await clonesGroup.send("sent by the clone");
    const alicesGroup = alice.conversations.getConversationById(groupId);
    assert.ok(alicesGroup instanceof Group);
    await alicesGroup.sync();
    assert.deepEqual(
      reports.map((r) => r.evidence),
      ["message"],
    );
    assert.equal(cloneLogs(logged).length, 1);
    const texts = (await alicesGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
    assert.ok(!texts.includes("sent by the clone"), "not listed as ours");
    // Alice's own next message still reaches Bob (no generation of hers is reused).
    await alicesGroup.send("the original");
    await bobsGroup.sync();
    const bobs = (await bobsGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
    assert.ok(bobs.includes("the original"));
    alice.close();
    clone.close();
    bob.close();
  });

  it("a newer key package of ours that we did not make: our own upload is refused as stale, syncs go on, and it is reported", async () => {
    const reports: ClonedInstallationReport[] = [];
    const dbPath = join(dir, "stale.db");
    let clockNs = BigInt(Date.now()) * 1_000_000n;
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      dbPath,
      nowNs: () => clockNs,
      onInstallationCloned: (report) => reports.push(report),
    });
    // Another holder of Alice's installation key uploads a key package that starts an hour later.
    const store = new LocalStore(dbPath);
    const secret = store.installation()?.installationSecret;
    store.close();
    assert.ok(secret);
    const later = await createKeyPackage({ inboxId: asInboxId(alice.inboxId), privateKey: secret }, { nowSeconds: BigInt(Math.floor(Date.now() / 1000)) + 3600n });
    const api = createApiClient(node.clientOptions);
    await api.mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: later.keyPackage }, isInboxIdCredential: true });
    // 31 days on, Alice rotates her key package: the node refuses hers as older than the one it holds.
    clockNs += 31n * 24n * 3600n * 1_000_000_000n;
    await alice.conversations.sync();
    await alice.conversations.sync();
    assert.deepEqual(
      reports.map((r) => r.evidence),
      ["key_package"],
    );
    alice.close();
  });

  it("a key package of ours used in a welcome we did not get is reported (the copy rotated it on the node)", async () => {
    const hideWelcomes = { on: true };
    const interceptor: Interceptor = (next) => async (request) => {
      const response = await next(request);
      if (!response.stream && hideWelcomes.on && request.method.name === "QueryWelcomeMessages") {
        (response.message as unknown as { messages: unknown[] }).messages = [];
      }
      return response;
    };
    const { alice, clone, bob, reports, logged } = await aliceAndClone("welcome", [interceptor]);
    const carol = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    await alice.conversations.sync();
    assert.equal(reports.length, 0, "nothing to report before the copy acts");
    const second = await carol.conversations.createGroup([alice.inboxId]);
    await clone.conversations.sync();
    assert.ok(clone.conversations.getConversationById(second.id), "the copy took the welcome");
    await alice.conversations.sync();
    assert.ok(alice.conversations.getConversationById(second.id) === undefined, "the node withheld it from alice");
    assert.deepEqual(
      reports.map((r) => r.evidence),
      ["key_package"],
    );
    assert.equal(cloneLogs(logged).length, 1);
    await alice.conversations.sync();
    assert.equal(reports.length, 1, "reported once, not on every sync");
    alice.close();
    clone.close();
    bob.close();
    carol.close();
  });
});
