// Bad input from the network, through a node in this
// process: tampered and replayed messages, a commit from a removed member,
// a welcome meant for another installation, a commit adding an installation
// its inbox does not have, and commits that break the permission policy.
// Each is refused with a typed code in the log, the log holds no secret,
// and the group then still carries messages.
//
// Forged input is built with @parley/mls directly from a member's stored
// state, so that it is exactly what a misbehaving client could publish.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createPrivateKeySigner } from "@parley/identity";
import {
  asInboxId,
  createGroup,
  createKeyPackage,
  decodeGroupState,
  groupExtensions,
  updateGroupExtensions,
  updateMembership,
  validateKeyPackage,
  wrapWelcome,
  type GroupState,
} from "@parley/mls";
import { mlsApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, groupMessageInput, type ApiClient } from "./api/api-client.js";
import { decodeMembership, decodeMutableMetadata, encodeMembership, encodeMutableMetadata, newGroupExtensions } from "./conversations/group-metadata.js";
import { Client, Group, GroupMessageKind, GroupPermissionsOptions, isClientError, PROTOCOL_VERSION, type Conversation, type RefusalCode } from "./index.js";
import { fetchAssociationStates } from "./identity/identity-lookup.js";
import type { ClientLogger } from "./logging.js";
import { LocalStore } from "./store/local-store.js";

interface Entry {
  readonly level: "warn" | "debug";
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function recorder(): ClientLogger & { entries: Entry[]; codes(): string[] } {
  const entries: Entry[] = [];
  return {
    entries,
    warn: (fields, message) => entries.push({ level: "warn", fields, message }),
    debug: (fields, message) => entries.push({ level: "debug", fields, message }),
    codes: () => entries.map((e) => e.fields["code"] as string),
  };
}

const LOGGED_FIELDS = new Set(["code", "groupId", "cursor", "reason", "causeCode"]);

/** Only codes, ids and cursors: no key, no plaintext, no envelope bytes. */
function assertNoSecrets(log: { entries: Entry[] }, secrets: readonly (string | Uint8Array)[]): void {
  const text = JSON.stringify(log.entries);
  for (const entry of log.entries) {
    for (const key of Object.keys(entry.fields)) assert.ok(LOGGED_FIELDS.has(key), `unexpected log field ${key}`);
  }
  for (const secret of secrets) {
    const forms = typeof secret === "string" ? [secret] : [Buffer.from(secret).toString("hex"), Buffer.from(secret).toString("base64")];
    for (const form of forms) assert.ok(!text.includes(form), "a secret reached the log");
  }
}

function refusedAt(log: { entries: Entry[] }, code: RefusalCode, cursor: bigint): Entry {
  const entry = log.entries.find((e) => e.fields["code"] === code && e.fields["cursor"] === cursor.toString());
  assert.ok(entry, `${code} logged for envelope ${cursor}; log: ${JSON.stringify(log.entries.map((e) => e.fields))}`);
  return entry;
}

async function envelopes(api: ApiClient, groupId: Uint8Array): Promise<mlsApi.GroupMessage_V1[]> {
  const res = await api.mls.queryGroupMessages({ groupId });
  return res.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value] : [])).sort((a, b) => Number(a.id - b.id));
}

/** Publishes raw bytes to the group's topic; returns the cursor the node gave them. */
async function publish(api: ApiClient, groupId: Uint8Array, data: Uint8Array): Promise<bigint> {
  await api.mls.sendGroupMessages({ messages: [groupMessageInput(data, false)] });
  const last = (await envelopes(api, groupId)).at(-1);
  assert.ok(last);
  return last.id;
}

function storedState(dbPath: string, groupId: Uint8Array): { state: GroupState; secret: Uint8Array } {
  const store = new LocalStore(dbPath);
  try {
    const row = store.group(groupId);
    const installation = store.installation();
    assert.ok(row && installation);
    return { state: decodeGroupState(row.state), secret: installation.installationSecret };
  } finally {
    store.close();
  }
}

/** An installation's own secret key, read while its client is open (WAL lets a second reader in). */
function storedInstallation(dbPath: string): { secret: Uint8Array } {
  const store = new LocalStore(dbPath);
  try {
    const installation = store.installation();
    assert.ok(installation);
    return { secret: installation.installationSecret };
  } finally {
    store.close();
  }
}

/** RFC 9420 variable-length integer: returns [value, bytes used]. */
function varint(bytes: Uint8Array, at: number): [number, number] {
  const first = bytes[at]!;
  const size = 1 << (first >> 6);
  let value = first & 0x3f;
  for (let i = 1; i < size; i += 1) value = value * 256 + bytes[at + i]!;
  return [value, size];
}

/** Where a PrivateMessage's encrypted_sender_data and ciphertext lie (RFC 9420 6.3). */
function privateMessageLayout(mls: Uint8Array): { senderData: [number, number]; ciphertext: [number, number] } {
  let at = 4; // version, wire_format
  const skipVector = () => {
    const [len, size] = varint(mls, at);
    const start = at + size;
    at = start + len;
    return [start, len] as [number, number];
  };
  skipVector(); // group_id
  at += 8 + 1; // epoch, content_type
  skipVector(); // authenticated_data
  const senderData = skipVector();
  const ciphertext = skipVector();
  assert.equal(at, mls.length, "the layout covers the whole message");
  return { senderData, ciphertext };
}

const flipped = (bytes: Uint8Array, at: number) => {
  const out = bytes.slice();
  out[at]! ^= 0x01;
  return out;
};

describe("@parley/client: bad input is refused, logged without secrets, and the group goes on", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-bad-input-"));
  let node: InProcessTestNode;
  let api: ApiClient;
  const open: Client[] = [];

  before(() => {
    node = createInProcessTestNode();
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    for (const c of open) c.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const newClient = async (options: { logger?: ClientLogger; db?: string } = {}) => {
    const c = await Client.create(createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      ...(options.db === undefined ? {} : { dbPath: join(dir, options.db) }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    open.push(c);
    return c;
  };

  const joined = async (client: Client, id: string): Promise<Group> => {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group);
    return group;
  };

  const texts = async (group: Conversation) => (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

  it("tampered ciphertext: a flipped byte in the sender data or the ciphertext is refused; the original reads once", async () => {
    const log = recorder();
    const alice = await newClient();
    const bob = await newClient({ logger: log, db: "tamper-bob.db" });
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await group.send("TamperedTextMustNotLeak");
    const original = (await envelopes(api, group.groupIdBytes)).at(-1)!.data;
    const layout = privateMessageLayout(original);
    const badSenderData = await publish(api, group.groupIdBytes, flipped(original, layout.senderData[0] + 3));
    const badTag = await publish(api, group.groupIdBytes, flipped(original, original.length - 1));

    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["TamperedTextMustNotLeak"]);
    refusedAt(log, "refused.undecryptable", badSenderData);
    // The ciphertext copy comes after the original used its generation: a
    // replay or a broken tag, refused either way.
    const tag = log.entries.find((e) => e.fields["cursor"] === badTag.toString());
    assert.ok(tag && ["refused.undecryptable", "refused.replayed"].includes(tag.fields["code"] as string));

    await group.send("after the tampering");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["TamperedTextMustNotLeak", "after the tampering"]);
    assertNoSecrets(log, ["TamperedTextMustNotLeak", storedState(join(dir, "tamper-bob.db"), group.groupIdBytes).secret, original]);
  });

  it("a replayed message: the same envelope again is not shown twice, and is logged as a replay", async () => {
    const log = recorder();
    const alice = await newClient();
    const bob = await newClient({ logger: log });
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await group.send("SaidOnce");
    await bobs.sync();
    const original = (await envelopes(api, group.groupIdBytes)).at(-1)!.data;
    // The node keeps one copy of identical bytes; the same message with the
    // group id's length written in two bytes instead of one gets through.
    const [len, size] = varint(original, 4);
    assert.equal(size, 1);
    const reencoded = new Uint8Array([...original.slice(0, 4), 0x40, len, ...original.slice(5)]);
    const replay = await publish(api, group.groupIdBytes, reencoded);

    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["SaidOnce"]);
    refusedAt(log, "refused.replayed", replay);
    await group.send("and then");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["SaidOnce", "and then"]);
    assertNoSecrets(log, ["SaidOnce", original]);
  });

  it("a commit from a removed member is not applied", async () => {
    const log = recorder();
    const alice = await newClient();
    const bob = await newClient({ logger: log });
    const carol = await newClient({ db: "removed-carol.db" });
    const group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId], { groupName: "kept" });
    const bobs = await joined(bob, group.id);
    await joined(carol, group.id);
    await group.removeMembers([carol.inboxId]);

    // Carol has not synced: her state is the epoch before her removal.
    const { state } = storedState(join(dir, "removed-carol.db"), group.groupIdBytes);
    const meta = decodeMutableMetadata(groupExtensions(state).mutableMetadata);
    meta.attributes["group_name"] = "hijacked";
    const forged = await updateGroupExtensions(state, { mutableMetadata: encodeMutableMetadata(meta) }, () => true);
    const cursor = await publish(api, group.groupIdBytes, forged.commit);

    await bobs.sync();
    assert.equal(bobs.name, "kept");
    assert.deepEqual((await bobs.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId].sort());
    refusedAt(log, "refused.wrong_epoch", cursor);
    await group.send("carol is gone");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["carol is gone"]);
    assertNoSecrets(log, ["hijacked"]);
  });

  it("a welcome meant for another installation is refused; that installation's own welcome later joins once", async () => {
    const log = recorder();
    const alice = await newClient();
    const bob = await newClient();
    const carol = await newClient({ logger: log });
    const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "bob's welcome" });
    const bobsWelcome = (await api.mls.queryWelcomeMessages({ installationKey: bob.installationIdBytes })).messages[0]?.version;
    assert.ok(bobsWelcome?.case === "v1");
    const w = bobsWelcome.value;
    await api.mls.sendWelcomeMessages({
      messages: [
        create(mlsApi.WelcomeMessageInputSchema, {
          version: {
            case: "v1",
            value: { installationKey: carol.installationIdBytes, data: w.data, hpkePublicKey: w.hpkePublicKey, wrapperAlgorithm: w.wrapperAlgorithm, welcomeMetadata: w.welcomeMetadata },
          },
        }),
      ],
    });
    await carol.conversations.sync();
    assert.equal(carol.conversations.list().length, 0);
    const entry = log.entries.find((e) => e.fields["code"] === "refused.welcome");
    assert.ok(entry, "refused and logged");

    await group.addMembers([carol.inboxId]);
    await carol.conversations.sync();
    await carol.conversations.sync();
    assert.deepEqual(carol.conversations.list().map((g) => g.id), [group.id]);
    await group.send("welcome, carol");
    await carol.conversations.syncAll();
    assert.deepEqual(await texts(carol.conversations.getConversationById(group.id)!), ["welcome, carol"]);
    assertNoSecrets(log, [w.data, w.hpkePublicKey]);
  });

  it("a commit adding an installation the inbox does not have is refused by the identity check", async () => {
    const log = recorder();
    const alice = await newClient({ db: "rogue-alice.db" });
    const bob = await newClient({ logger: log });
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);

    // An installation key never associated with Bob's inbox, claiming it.
    const rogueKey = randomBytes(32);
    const rogue = await createKeyPackage({ inboxId: asInboxId(bob.inboxId), privateKey: rogueKey });
    const { state } = storedState(join(dir, "rogue-alice.db"), group.groupIdBytes);
    const forged = await updateMembership(state, { add: [rogue.keyPackage], membership: groupExtensions(state).membership, authenticate: () => true });
    const cursor = await publish(api, group.groupIdBytes, forged.commit);

    await bobs.sync();
    const entry = refusedAt(log, "refused.commit", cursor);
    assert.equal(entry.fields["causeCode"], "mls.unauthenticated_member");
    const members = await bobs.members();
    assert.deepEqual(members.find((m) => m.inboxId === bob.inboxId)?.installationIds, [bob.installationId]);
    await group.send("the rogue is not in");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["the rogue is not in"]);
    assertNoSecrets(log, [rogueKey]);
  });

  it("commits that break the permission policy (a member names itself admin, adds or removes under AdminOnly) are refused", async () => {
    const carolLog = recorder();
    const daveLog = recorder();
    const alice = await newClient();
    const bob = await newClient({ db: "rogue-bob.db" });
    const carol = await newClient({ logger: carolLog });
    const dave = await newClient({ logger: daveLog });
    const erin = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId, dave.inboxId], { permissions: GroupPermissionsOptions.AdminOnly });
    await joined(bob, group.id);
    const carols = await joined(carol, group.id);
    const daves = await joined(dave, group.id);

    // Bob's own client refuses to send these (client.permission_denied), so
    // they are built from his stored state, bypassing it.
    const { state, secret } = storedState(join(dir, "rogue-bob.db"), group.groupIdBytes);
    const ext = groupExtensions(state);
    const meta = decodeMutableMetadata(ext.mutableMetadata);
    meta.adminList = { $typeName: "xmtp.mls.message_contents.Inboxes", inboxIds: [bob.inboxId] };
    const selfPromotion = await updateGroupExtensions(state, { mutableMetadata: encodeMutableMetadata(meta) }, () => true);
    const promoted = await publish(api, group.groupIdBytes, selfPromotion.commit);

    const erinsKp = (await api.mls.fetchKeyPackages({ installationKeys: [erin.installationIdBytes] })).keyPackages[0]!.keyPackageTlsSerialized;
    // Erin pinned at her real sequence id: the commit passes the installation
    // diff (rule 3), so only the add policy can refuse it.
    const erinsSeq = (await fetchAssociationStates(api, [erin.inboxId])).get(erin.inboxId)?.sequenceId ?? 0n;
    const withErin = new Map(decodeMembership(ext.membership)).set(erin.inboxId, erinsSeq);
    const addition = await updateMembership(state, { add: [erinsKp], membership: encodeMembership(withErin), authenticate: () => true });
    const added = await publish(api, group.groupIdBytes, addition.commit);

    const withoutDave = new Map(decodeMembership(ext.membership));
    withoutDave.delete(dave.inboxId);
    const daveKey = dave.installationIdBytes;
    const removal = await updateMembership(state, { remove: [daveKey as never], membership: encodeMembership(withoutDave), authenticate: () => true });
    const removed = await publish(api, group.groupIdBytes, removal.commit);

    await carols.sync();
    assert.equal(refusedAt(carolLog, "refused.commit", promoted).fields["reason"], "add_admin_policy");
    assert.equal(refusedAt(carolLog, "refused.commit", added).fields["reason"], "add_member_policy");
    assert.equal(refusedAt(carolLog, "refused.commit", removed).fields["reason"], "remove_member_policy");
    assert.deepEqual(carols.listAdmins(), []);
    assert.deepEqual((await carols.members()).map((m) => m.inboxId).sort(), [alice.inboxId, bob.inboxId, carol.inboxId, dave.inboxId].sort());

    // Dave, the one "removed", does not leave on a non-admin's word.
    await daves.sync();
    assert.equal(refusedAt(daveLog, "refused.commit", removed).fields["reason"], "remove_member_policy");
    assert.ok(daves.isActive);

    await group.send("the group goes on");
    await carols.sync();
    await daves.sync();
    assert.deepEqual(await texts(carols), ["the group goes on"]);
    assert.deepEqual(await texts(daves), ["the group goes on"]);
    await erin.conversations.syncAll();
    assert.equal(erin.conversations.list().length, 0, "no welcome was sent with the forged add");
    assertNoSecrets(carolLog, [secret, "the group goes on"]);
    assertNoSecrets(daveLog, [secret]);
  });

  it("a commit raising the minimum protocol version above ours pauses the group before it; one at or below ours applies", async () => {
    const log = recorder();
    const alice = await newClient({ db: "pause-alice.db" });
    const bob = await newClient({ logger: log });
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const bobs = await joined(bob, group.id);
    await bobs.sync();
    alice.close();

    // Alice is the super admin, whom the policy lets set the version.
    const { state } = storedState(join(dir, "pause-alice.db"), group.groupIdBytes);
    const meta = decodeMutableMetadata(groupExtensions(state).mutableMetadata);
    meta.attributes["minimum_supported_protocol_version"] = PROTOCOL_VERSION;
    const same = await updateGroupExtensions(state, { mutableMetadata: encodeMutableMetadata(meta) }, () => true);
    await publish(api, group.groupIdBytes, same.commit);
    await bobs.sync();
    assert.equal(bobs.pausedForVersion(), undefined, "our own version does not pause");

    const meta2 = decodeMutableMetadata(groupExtensions(same.state).mutableMetadata);
    meta2.attributes["minimum_supported_protocol_version"] = "99.0.0";
    const raised = await updateGroupExtensions(same.state, { mutableMetadata: encodeMutableMetadata(meta2) }, () => true);
    const cursor = await publish(api, group.groupIdBytes, raised.commit);
    await bobs.sync();
    assert.equal(bobs.pausedForVersion(), "99.0.0");
    refusedAt(log, "refused.paused", cursor);
    await assert.rejects(bobs.send("not while paused"), (e) => isClientError(e) && e.code === "client.usage");
    await bobs.sync();
    assert.equal(bobs.pausedForVersion(), "99.0.0", "still waiting at the same commit");
  });

  it("commits whose XMTP extensions do not decode (membership map, metadata, policies) are refused; the group goes on", async () => {
    const log = recorder();
    const alice = await newClient({ db: "garbage-alice.db" });
    const bob = await newClient({ logger: log });
    const carol = await newClient();
    const group = await alice.conversations.createGroup([bob.inboxId, carol.inboxId]);
    const bobs = await joined(bob, group.id);
    const carols = await joined(carol, group.id);
    await bobs.sync();
    await carols.sync();
    alice.close();

    // Alice, the super admin (whom every policy lets change these), commits garbage.
    const { state } = storedState(join(dir, "garbage-alice.db"), group.groupIdBytes);
    const garbage = Uint8Array.of(0xff, 0xff, 0xff, 0x0a, 0x01);
    const cursors: bigint[] = [];
    for (const change of [{ membership: garbage }, { mutableMetadata: garbage }, { permissions: garbage }]) {
      const forged = await updateGroupExtensions(state, change, () => true);
      cursors.push(await publish(api, group.groupIdBytes, forged.commit));
    }
    await bobs.sync();
    for (const cursor of cursors) refusedAt(log, "refused.commit", cursor);

    await carols.send("still one group");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["still one group"]);
    assertNoSecrets(log, ["still one group"]);
  });

  it("a welcome whose group metadata does not decode is refused; a sound one still joins", async () => {
    const log = recorder();
    const alice = await newClient({ db: "welcome-garbage-alice.db" });
    const bob = await newClient({ logger: log });
    const { secret } = storedInstallation(join(dir, "welcome-garbage-alice.db"));
    const kp = (await api.mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0]!.keyPackageTlsSerialized;
    const { initKey } = await validateKeyPackage(kp);
    const seqs = await fetchAssociationStates(api, [alice.inboxId, bob.inboxId]);
    const pin = (id: string) => seqs.get(id)?.sequenceId ?? 0n;
    const state = await createGroup({
      signer: { inboxId: asInboxId(alice.inboxId), privateKey: secret },
      extensions: { ...newGroupExtensions(alice.inboxId, { groupName: "garbled" }), mutableMetadata: Uint8Array.of(0xff, 0xff, 0x0a) },
      authenticate: () => true,
    });
    const added = await updateMembership(state, {
      add: [kp],
      membership: encodeMembership(new Map([[alice.inboxId, pin(alice.inboxId)], [bob.inboxId, pin(bob.inboxId)]])),
      authenticate: () => true,
    });
    const wrapped = wrapWelcome(added.welcome!, initKey, 0n);
    await api.mls.sendWelcomeMessages({
      messages: [
        create(mlsApi.WelcomeMessageInputSchema, {
          version: { case: "v1", value: { installationKey: bob.installationIdBytes, ...wrapped } },
        }),
      ],
    });
    await bob.conversations.sync();
    assert.equal(bob.conversations.list().length, 0, "not joined");
    const entry = log.entries.find((e) => e.fields["code"] === "refused.welcome");
    assert.equal(entry?.fields["reason"], "an XMTP extension does not decode");

    const sound = await alice.conversations.createGroup([bob.inboxId], { groupName: "sound" });
    await bob.conversations.sync();
    assert.deepEqual(bob.conversations.list().map((g) => g.id), [sound.id]);
    assertNoSecrets(log, [secret]);
  });
});
