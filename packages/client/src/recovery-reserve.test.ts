// A stolen installation cannot make itself impossible to revoke
// (@parley/identity's recovery reserve): against a node in this process, the
// thief signs wallet additions with the laptop's key until the node refuses,
// and the owner's revocation still lands, groups drop the laptop, and the
// owner's other device goes on; against a node that stored past the rule
// (an interceptor serving the log), the client reads the entries that break
// it as without effect.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  assertInboxId,
  createPrivateKeySigner,
  createSignatureRequest,
  installationIdFromKey,
  installationMember,
  installationPublicKey,
  maxIdentityUpdates,
  maxUpdatesWithoutRecovery,
  signerIdentifier,
  type ActionRequest,
  type Signer,
} from "@parley/identity";
import type { associations, identityApi } from "@parley/proto";
import { storedInstallationSecret, testWorld } from "./client-fixtures.test-util.js";
import { Client, Group, GroupMessageKind } from "./index.js";

/** The system clock plus an offset the test moves forward. */
function testClock() {
  let offsetNs = 0n;
  return {
    nowNs: () => BigInt(Date.now()) * 1_000_000n + offsetNs,
    advanceSeconds: (s: number) => {
      offsetNs += BigInt(s) * 1_000_000_000n;
    },
  };
}

let time = BigInt(Date.now()) * 1_000_000n;
/** An update signed by `wallets` and the installation secret keys `installations`. */
async function signed(inboxId: string, actions: ActionRequest[], wallets: Signer[], installations: Uint8Array[] = []): Promise<associations.IdentityUpdate> {
  const request = createSignatureRequest({ inboxId: assertInboxId(inboxId), clientTimestampNs: (time += 1_000_000n), actions });
  for (const wallet of wallets) await request.signWith(wallet);
  for (const secret of installations) request.signWithInstallationKey(secret);
  return request.toProto();
}

const memberOfKey = (secret: Uint8Array) => installationMember(installationIdFromKey(installationPublicKey(secret)));

/** The stolen installation adds a wallet the thief just made: one AddAssociation, signed by the two. */
async function thiefAddsWallet(inboxId: string, stolenSecret: Uint8Array): Promise<associations.IdentityUpdate> {
  const wallet = createPrivateKeySigner(randomBytes(32));
  const newMember = await signerIdentifier(wallet);
  return signed(inboxId, [{ type: "addAssociation", newMember, existingMember: memberOfKey(stolenSecret) }], [wallet], [stolenSecret]);
}

const installationIds = async (client: Client, inboxId: string) => (await client.fetchInboxStates([inboxId]))[0]?.installations.map((i) => i.id).sort();

describe("@parley/client: the owner can always revoke a stolen installation", { timeout: 180_000 }, () => {
  const world = testWorld("recovery-reserve");

  it("the laptop's key adds wallets until the node refuses; the wallet's revocation lands, the laptop's next update is refused, and the group drops it", async () => {
    const clock = testClock();
    const ownerWallet = createPrivateKeySigner(randomBytes(32));
    const phone = await Client.create(ownerWallet, world.node.clientOptions);
    const laptopDb = join(world.dir, "laptop.db");
    const laptop = await Client.create(ownerWallet, { ...world.node.clientOptions, dbPath: laptopDb });
    const carol = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...world.node.clientOptions, nowNs: clock.nowNs });
    const group = await carol.conversations.createGroup([phone.inboxId]);
    const ownerInGroup = async () => (await group.members()).find((m) => m.inboxId === phone.inboxId)?.installationIds.sort();
    assert.deepEqual(await ownerInGroup(), [phone.installationId, laptop.installationId].sort());
    await laptop.conversations.sync();
    const laptopsGroup = laptop.conversations.getConversationById(group.id);
    assert.ok(laptopsGroup instanceof Group);

    // The thief copies the laptop's key and adds wallets of its own, one update each, until the node says no.
    const stolen = storedInstallationSecret(laptopDb);
    let added = 0;
    let refusal: unknown;
    while (refusal === undefined && added < maxIdentityUpdates) {
      try {
        await world.api.identity.publishIdentityUpdate({ identityUpdate: await thiefAddsWallet(phone.inboxId, stolen) });
        added++;
      } catch (error) {
        refusal = error;
      }
    }
    assert.equal(ConnectError.from(refusal).code, Code.InvalidArgument);
    assert.equal(added, maxUpdatesWithoutRecovery - 2, "the two registrations and the thief's additions fill all but the reserve");
    assert.equal((await phone.inboxState()).identifiers.length, added + 1);

    // The owner's phone goes on meanwhile: it joins and talks.
    await phone.conversations.sync();
    const phonesGroup = phone.conversations.getConversationById(group.id);
    assert.ok(phonesGroup instanceof Group);
    await phonesGroup.send("still mine");
    await group.sync();
    assert.deepEqual((await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still mine"]);

    // The wallet revokes the laptop: it lands, and the laptop's key signs for no member any more.
    await phone.revokeInstallations([laptop.installationIdBytes]);
    assert.deepEqual(await installationIds(carol, phone.inboxId), [phone.installationId]);
    await assert.rejects(
      world.api.identity.publishIdentityUpdate({ identityUpdate: await thiefAddsWallet(phone.inboxId, stolen) }),
      (error: unknown) => ConnectError.from(error).code === Code.InvalidArgument,
    );

    // Carol's next membership check removes the laptop from the group; the laptop reads nothing after.
    clock.advanceSeconds(6);
    await group.send("after the theft");
    assert.deepEqual(await ownerInGroup(), [phone.installationId], "the revoked leaf is gone");
    await phonesGroup.sync();
    assert.deepEqual((await phonesGroup.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["still mine", "after the theft"]);
    await laptopsGroup.sync();
    assert.equal(laptopsGroup.isActive, false);
    for (const c of [phone, laptop, carol]) c.close();
  });

  it("a node that stored the thief's updates past the rule: the client reads them as without effect, and sees the owner's revocation", async () => {
    const ownerWallet = createPrivateKeySigner(randomBytes(32));
    const phone = await Client.create(ownerWallet, world.node.clientOptions);
    const laptopDb = join(world.dir, "laptop-2.db");
    const laptop = await Client.create(ownerWallet, { ...world.node.clientOptions, dbPath: laptopDb });
    const stolen = storedInstallationSecret(laptopDb);
    const real = (await world.api.identity.getIdentityUpdates({ requests: [{ inboxId: phone.inboxId, sequenceId: 0n }] })).responses[0]?.updates ?? [];
    assert.equal(real.length, 2);

    // The log as a node without the rule would hold it: the thief's wallets to the cap, then one of
    // them adds the thief's own device, then the wallet revokes the laptop.
    const forged: identityApi.GetIdentityUpdatesResponse_IdentityUpdateLog[] = [...real];
    const last = real.at(-1)?.sequenceId ?? 0n;
    const append = (update: associations.IdentityUpdate) =>
      forged.push({ ...(real[0] as identityApi.GetIdentityUpdatesResponse_IdentityUpdateLog), sequenceId: last + BigInt(forged.length), update });
    const firstThiefWallet = createPrivateKeySigner(randomBytes(32));
    append(await signed(phone.inboxId, [{ type: "addAssociation", newMember: await signerIdentifier(firstThiefWallet), existingMember: memberOfKey(stolen) }], [firstThiefWallet], [stolen]));
    while (forged.length < maxIdentityUpdates - 2) append(await thiefAddsWallet(phone.inboxId, stolen));
    const thiefDevice = randomBytes(32);
    append(await signed(phone.inboxId, [{ type: "addAssociation", newMember: memberOfKey(thiefDevice), existingMember: await signerIdentifier(firstThiefWallet) }], [firstThiefWallet], [thiefDevice]));
    append(
      await signed(phone.inboxId, [{ type: "revokeAssociation", member: memberOfKey(stolen), recoveryIdentifier: await signerIdentifier(ownerWallet) }], [ownerWallet]),
    );
    const serveForged: Interceptor = (next) => async (request) => {
      const response = await next(request);
      if (request.method.name !== "GetIdentityUpdates" || response.stream) return response;
      const message = response.message as identityApi.GetIdentityUpdatesResponse;
      for (const r of message.responses) {
        const asked = (request.message as identityApi.GetIdentityUpdatesRequest).requests.find((q) => q.inboxId === r.inboxId)?.sequenceId ?? 0n;
        if (r.inboxId === phone.inboxId) r.updates = forged.filter((u) => u.sequenceId > asked);
      }
      return response;
    };
    const carol = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...world.node.clientOptions, interceptors: [serveForged] });

    const [state] = await carol.fetchInboxStates([phone.inboxId]);
    assert.ok(state);
    assert.deepEqual(state.installations.map((i) => i.id), [phone.installationId], "the laptop revoked, the thief's device never added");
    assert.equal(state.identifiers.length, 1 + maxUpdatesWithoutRecovery - 2, "the owner and the thief's wallets up to the reserve");
    // The real node's log, read by a client on it, still has both devices: the forgery is carol's alone.
    assert.deepEqual(await installationIds(phone, phone.inboxId), [phone.installationId, laptop.installationId].sort());
    for (const c of [phone, laptop, carol]) c.close();
  });
});
