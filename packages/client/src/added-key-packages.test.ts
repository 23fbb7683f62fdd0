// The node cannot slip an installation into a group through the key
// packages it serves for an add (conversations/added-key-packages.ts), nor
// through an older identity log after a restart (the logs we verified are
// kept: identity/inbox-history.ts), and our own commit is judged as the
// members judge it (commit-verdict.ts). The node plays each lie through an
// interceptor on the adder's calls; everything else is the real client on
// a node in this process. Each case: the slipped installation is not in
// the group and reads nothing sent after, the real installations are in,
// the refusal is logged, and the members go on sending and receiving.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { groupExtensions, updateMembership } from "@parley/mls";
import { asInboxId, asInstallationKey, type identityApi, type mlsApi } from "@parley/proto";
import { publish, recorder, refusedAt, storedGroup, testWorld } from "./client-fixtures.test-util.js";
import { assertOwnCommitPasses } from "./conversations/commit-verdict.js";
import { decodeMembership, encodeMembership } from "./conversations/group-metadata.js";
import { identityAuthenticator } from "./identity/identity-lookup.js";
import { Client, Group, GroupMessageKind, isClientError } from "./index.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A node that serves `inboxId`'s identity log without its entries from sequence id `from` on. */
function staleLog(inboxId: string, from: bigint): Interceptor {
  return (next) => async (request) => {
    const response = await next(request);
    if (!response.stream && request.method.name === "GetIdentityUpdates") {
      for (const r of (response.message as unknown as identityApi.GetIdentityUpdatesResponse).responses) {
        if (r.inboxId === inboxId) r.updates = r.updates.filter((u) => u.sequenceId < from);
      }
    }
    return response;
  };
}

/**
 * A node that answers the adder's FetchKeyPackages with `serve(asked)` in
 * place of the key package of each installation `serve` returns bytes for.
 */
function keyPackageSwap(serve: (askedHex: string) => Uint8Array | undefined): Interceptor {
  return (next) => async (request) => {
    const response = await next(request);
    if (!response.stream && request.method.name === "FetchKeyPackages") {
      const asked = (request.message as mlsApi.FetchKeyPackagesRequest).installationKeys;
      const answer = response.message as unknown as mlsApi.FetchKeyPackagesResponse;
      asked.forEach((key, i) => {
        const swapped = serve(hex(key));
        const entry = answer.keyPackages[i];
        if (swapped !== undefined && entry !== undefined) entry.keyPackageTlsSerialized = swapped;
      });
    }
    return response;
  };
}

describe("@parley/client: the node cannot slip an installation into a group", { timeout: 90_000 }, () => {
  const world = testWorld("added-kp");

  const newSigner = () => createPrivateKeySigner(randomBytes(32));
  const keyPackageOf = async (client: Client) => {
    const kp = (await world.api.mls.fetchKeyPackages({ installationKeys: [client.installationIdBytes] })).keyPackages[0]?.keyPackageTlsSerialized;
    assert.ok(kp !== undefined && kp.length > 0, "the node holds its key package");
    return kp;
  };
  const texts = async (group: Group) => (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);
  const groupOf = async (client: Client, id: string) => {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group, "joined from the welcome");
    await group.sync();
    return group;
  };
  const installationsOf = async (group: Group, inboxId: string) =>
    (await group.members()).find((m) => m.inboxId === inboxId)?.installationIds.sort() ?? [];

  /**
   * Alice (whose FetchKeyPackages goes through `swap`) in a group with Carol,
   * a normal member; Bob with two installations to be added.
   */
  async function scene(swap: (askedHex: string) => Uint8Array | undefined) {
    const log = recorder();
    const alice = await Client.create(newSigner(), { ...world.node.clientOptions, logger: log, interceptors: [keyPackageSwap(swap)] });
    const carol = await Client.create(newSigner(), world.node.clientOptions);
    const bobSigner = newSigner();
    const bob1 = await Client.create(bobSigner, world.node.clientOptions);
    const bob2 = await Client.create(bobSigner, world.node.clientOptions);
    const group = await alice.conversations.createGroup([carol.inboxId]);
    const carols = await groupOf(carol, group.id);
    await group.send("before");
    return { alice, carol, bobSigner, bob1, bob2, group, carols, log };
  }

  /** The members after the add: each reads what is sent after, and they talk both ways. */
  async function membersGoOn(s: Awaited<ReturnType<typeof scene>>, bobs: readonly Client[]) {
    await s.group.send("after");
    await s.carols.sync();
    await s.carols.send("carol after");
    await s.group.sync();
    assert.deepEqual(await texts(s.group), ["before", "after", "carol after"], "alice reads carol");
    assert.deepEqual(await texts(s.carols), ["before", "after", "carol after"], "carol applied the add and reads alice");
    assert.deepEqual(await installationsOf(s.carols, s.bob1.inboxId), bobs.map((b) => b.installationId).sort(), "carol sees the same installations");
    for (const bob of bobs) assert.deepEqual(await texts(await groupOf(bob, s.group.id)), ["after", "carol after"], "a real installation reads what follows its add");
  }

  /** `slipped` holds no group and reads nothing sent after the add. */
  async function readsNothing(slipped: Client, groupId: string) {
    await slipped.conversations.sync();
    assert.equal(slipped.conversations.getConversationById(groupId), undefined, "the slipped installation holds no group");
  }

  const refusedKeyPackages = (log: ReturnType<typeof recorder>) =>
    log.entries.filter((e) => e.fields["code"] === "refused.key_package").map((e) => ({ id: e.fields["installationId"], reason: e.fields["reason"] }));

  it("another inbox's key package served for the installation asked: that installation is not added, the other is", async () => {
    const eve = await Client.create(newSigner(), world.node.clientOptions);
    const evesKeyPackage = await keyPackageOf(eve);
    let target = "";
    const s = await scene((asked) => (asked === target ? evesKeyPackage : undefined));
    target = s.bob1.installationId;
    await s.group.addMembers([s.bob1.inboxId]);

    assert.deepEqual(await installationsOf(s.group, s.bob1.inboxId), [s.bob2.installationId]);
    assert.equal((await s.group.members()).some((m) => m.inboxId === eve.inboxId), false, "eve is not a member");
    assert.deepEqual(refusedKeyPackages(s.log), [{ id: s.bob1.installationId, reason: "another installation's key package" }]);
    await membersGoOn(s, [s.bob2]);
    await readsNothing(eve, s.group.id);
    for (const c of [s.alice, s.carol, s.bob1, s.bob2, eve]) c.close();
  });

  it("a revoked installation's key package served for one still in the inbox: it is not welcomed and reads nothing after", async () => {
    let revokedKeyPackage: Uint8Array = new Uint8Array(0);
    let target = "";
    const s = await scene((asked) => (asked === target ? revokedKeyPackage : undefined));
    // Bob's third installation is revoked; the node keeps its old key package and serves it.
    const bob3 = await Client.create(s.bobSigner, world.node.clientOptions);
    revokedKeyPackage = await keyPackageOf(bob3);
    await s.bob1.revokeInstallations([bob3.installationIdBytes]);
    target = s.bob2.installationId;
    await s.group.addMembers([s.bob1.inboxId]);

    assert.deepEqual(await installationsOf(s.group, s.bob1.inboxId), [s.bob1.installationId]);
    assert.deepEqual(refusedKeyPackages(s.log), [{ id: s.bob2.installationId, reason: "another installation's key package" }]);
    await membersGoOn(s, [s.bob1]);
    await readsNothing(bob3, s.group.id);
    for (const c of [s.alice, s.carol, s.bob1, s.bob2, bob3]) c.close();
  });

  it("a key package whose signature does not verify: that installation is not added, the other is", async () => {
    let target = "";
    let forged: Uint8Array = new Uint8Array(0);
    const s = await scene((asked) => (asked === target ? forged : undefined));
    // The key package ends with its signature (RFC 9420 10): one bit of it flipped.
    forged = Uint8Array.from(await keyPackageOf(s.bob2));
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 1;
    target = s.bob2.installationId;
    await s.group.addMembers([s.bob1.inboxId]);

    assert.deepEqual(await installationsOf(s.group, s.bob1.inboxId), [s.bob1.installationId]);
    assert.deepEqual(refusedKeyPackages(s.log), [{ id: s.bob2.installationId, reason: "a key package that does not verify" }]);
    const entry = s.log.entries.find((e) => e.fields["code"] === "refused.key_package");
    assert.equal(entry?.fields["causeCode"], "mls.bad_signature");
    await membersGoOn(s, [s.bob1]);
    await readsNothing(s.bob2, s.group.id);
    for (const c of [s.alice, s.carol, s.bob1, s.bob2]) c.close();
  });

  it("an added inbox none of whose installations has a key package that passes: client.not_found, nothing is sent, the group goes on", async () => {
    let target = "";
    let forged: Uint8Array = new Uint8Array(0);
    const s = await scene((asked) => (asked === target ? forged : undefined));
    const dave = await Client.create(newSigner(), world.node.clientOptions);
    forged = Uint8Array.from(await keyPackageOf(dave));
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 1;
    target = dave.installationId;
    const epoch = (await s.group.debugInfo()).epoch;
    await assert.rejects(s.group.addMembers([dave.inboxId]), (e: unknown) => isClientError(e) && e.code === "client.not_found");
    assert.equal((await s.group.debugInfo()).epoch, epoch, "no commit");
    assert.equal((await s.group.members()).some((m) => m.inboxId === dave.inboxId), false);
    await readsNothing(dave, s.group.id);
    await s.group.send("still here");
    await s.carols.sync();
    assert.deepEqual(await texts(s.carols), ["before", "still here"]);
    for (const c of [s.alice, s.carol, s.bob1, s.bob2, dave]) c.close();
  });

  it("after a restart, a log served without the revocation we verified before: the revoked installation is not added", async () => {
    const bobSigner = newSigner();
    const bob1 = await Client.create(bobSigner, world.node.clientOptions);
    const bob2 = await Client.create(bobSigner, world.node.clientOptions);
    const bob3 = await Client.create(bobSigner, world.node.clientOptions);
    const bob3sKeyPackage = await keyPackageOf(bob3);
    await bob1.revokeInstallations([bob3.installationIdBytes]);
    const bobsLog = (await world.api.identity.getIdentityUpdates({ requests: [{ inboxId: bob1.inboxId, sequenceId: 0n }] })).responses[0]?.updates ?? [];
    const revocation = bobsLog.at(-1)?.sequenceId;
    assert.ok(revocation !== undefined);

    // Alice verifies Bob's log, revocation included, in a first group; then restarts.
    const dbPath = join(world.dir, "alice-restart.db");
    const aliceSigner = newSigner();
    const first = await Client.create(aliceSigner, { ...world.node.clientOptions, dbPath });
    await first.conversations.createGroup([bob1.inboxId]);
    first.close();

    // The node now serves Bob's log as it was before the revocation, and bob3's old key package.
    const log = recorder();
    const interceptors = [staleLog(bob1.inboxId, revocation), keyPackageSwap((asked) => (asked === bob3.installationId ? bob3sKeyPackage : undefined))];
    const alice = await Client.create(aliceSigner, { ...world.node.clientOptions, dbPath, logger: log, interceptors });
    const carol = await Client.create(newSigner(), world.node.clientOptions);
    const group = await alice.conversations.createGroup([carol.inboxId, bob1.inboxId]);
    assert.deepEqual(await installationsOf(group, bob1.inboxId), [bob1.installationId, bob2.installationId].sort());

    await group.send("after");
    const carols = await groupOf(carol, group.id);
    await carols.send("carol after");
    await group.sync();
    assert.deepEqual(await texts(group), ["after", "carol after"]);
    assert.deepEqual(await installationsOf(carols, bob1.inboxId), [bob1.installationId, bob2.installationId].sort());
    for (const bob of [bob1, bob2]) assert.deepEqual(await texts(await groupOf(bob, group.id)), ["after", "carol after"]);
    await readsNothing(bob3, group.id);
    for (const c of [alice, carol, bob1, bob2, bob3]) c.close();
  });

  it("our own commit meets the very verdict the members apply: one adding a revoked installation is refused before it is sent, for the reason a member refuses it", async () => {
    const dbPath = join(world.dir, "alice-verdict.db");
    const alice = await Client.create(newSigner(), { ...world.node.clientOptions, dbPath });
    const carolLog = recorder();
    const carol = await Client.create(newSigner(), { ...world.node.clientOptions, logger: carolLog });
    const bobSigner = newSigner();
    const bob1 = await Client.create(bobSigner, world.node.clientOptions);
    const bob3 = await Client.create(bobSigner, world.node.clientOptions);
    const bob3sKeyPackage = await keyPackageOf(bob3);
    await bob1.revokeInstallations([bob3.installationIdBytes]);
    const group = await alice.conversations.createGroup([carol.inboxId]);
    const carols = await groupOf(carol, group.id);

    // The commit a planner fooled by the node would build: Bob at his latest entry, his revoked installation added.
    const bobsLog = (await world.api.identity.getIdentityUpdates({ requests: [{ inboxId: bob1.inboxId, sequenceId: 0n }] })).responses[0]?.updates ?? [];
    const latest = bobsLog.at(-1)?.sequenceId;
    assert.ok(latest !== undefined);
    const state = storedGroup(dbPath, group.groupIdBytes);
    const map = new Map(decodeMembership(groupExtensions(state).membership)).set(bob1.inboxId, latest);
    const authenticate = identityAuthenticator(world.api);
    const commit = await updateMembership(state, {
      add: [await keyPackageOf(bob1), bob3sKeyPackage],
      membership: encodeMembership(map),
      authenticate,
    });

    const ours = await assertOwnCommitPasses(
      { inboxId: asInboxId(alice.inboxId), installationKey: asInstallationKey(alice.installationIdBytes), nowNs: () => BigInt(Date.now()) * 1_000_000n },
      authenticate.histories,
      state,
      commit,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isClientError(ours) && ours.code === "client.identity", "refused before it is sent");
    assert.match(ours.message, /an installation added outside the expected diff/);

    // The same bytes published anyway: Carol refuses them for the same rule.
    const cursor = await publish(world.api, group.groupIdBytes, commit.commit);
    await carols.sync();
    assert.equal(refusedAt(carolLog, "refused.commit", cursor).fields["reason"], "an installation added outside the expected diff");
    for (const c of [alice, carol, bob1, bob3]) c.close();
  });
});
