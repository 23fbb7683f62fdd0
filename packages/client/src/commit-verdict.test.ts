// Every member reaches the same verdict on every commit (RFC 9420 12.4.2,
// 7.3), against a node in this process and a malicious member. The forged
// commits are built with the engine @parley/mls runs (`tsMls`) from the
// committer's stored state, through a cipher suite whose key derivation
// lies exactly where the attack needs it: the commit is otherwise well
// formed, signed, and its tree hash and confirmation tag agree with what it
// carries. Each is published to the node as the committer's client would.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import { CIPHERSUITE, ExtensionId, encodeGroupState, groupMembers, nodeCryptoProvider, tsMls, xmtpClientConfig, type GroupState } from "@parley/mls";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, groupMessageInput, type ApiClient } from "./api/api-client.js";
import { decodeMembership, encodeMembership } from "./conversations/group-metadata.js";
import { Client, Group, GroupMessageKind } from "./index.js";
import type { ClientLogger } from "./logging.js";
import { storedGroup } from "./client-fixtures.test-util.js";

type KeyPair = Awaited<ReturnType<Awaited<ReturnType<typeof nodeCryptoProvider.getCiphersuiteImpl>>["hpke"]["deriveKeyPair"]>>;
type Engine = Parameters<typeof tsMls.createCommit>[0]["state"];
type Proposal = NonNullable<Parameters<typeof tsMls.createCommit>[0]["extraProposals"]>[number];
type Suite = Awaited<ReturnType<typeof nodeCryptoProvider.getCiphersuiteImpl>>;

function recorder(): ClientLogger & { refusals(): { code: string; cursor: string }[] } {
  const entries: Record<string, unknown>[] = [];
  return {
    warn: (fields) => entries.push(fields),
    debug: (fields) => entries.push(fields),
    refusals: () => entries.map((f) => ({ code: String(f["code"]), cursor: String(f["cursor"]) })),
  };
}


/**
 * An empty commit with a path from `state` (RFC 9420 12.4.1), made by the
 * engine with `lie` answering the k-th key derivation of the UpdatePath
 * (0: the committer's new leaf key; 1, 2, ...: the nodes of its filtered
 * direct path, bottom up).
 */
async function forgedCommit(
  state: GroupState,
  lie: (k: number, honest: KeyPair, suite: Suite) => Promise<KeyPair>,
  proposals: (engine: Engine) => Proposal[] = () => [],
): Promise<Uint8Array> {
  const engine = tsMls.decode(tsMls.clientStateDecoder, encodeGroupState(state).subarray(1));
  assert.ok(engine);
  const honest = await nodeCryptoProvider.getCiphersuiteImpl(CIPHERSUITE);
  let k = 0;
  const suite: Suite = {
    ...honest,
    hpke: {
      ...honest.hpke,
      deriveKeyPair: async (ikm) => lie(k++, await honest.hpke.deriveKeyPair(ikm), honest),
    },
  };
  const result = await tsMls.createCommit({
    context: { cipherSuite: suite, authService: { validateCredential: () => Promise.resolve(true) }, clientConfig: xmtpClientConfig() },
    state: engine,
    extraProposals: proposals(engine),
    ratchetTreeExtension: true,
    wireAsPublicMessage: false,
  });
  return tsMls.encode(tsMls.mlsMessageEncoder, result.commit);
}

describe("@parley/client: every member reaches the same verdict on a commit", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-verdict-"));
  let node: InProcessTestNode;
  let api: ApiClient;
  let n = 0;

  before(() => {
    node = createInProcessTestNode();
    api = createApiClient(node.clientOptions);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newClient(nowNs?: () => bigint): Promise<{ client: Client; dbPath: string; log: ReturnType<typeof recorder> }> {
    const dbPath = join(dir, `c${(n += 1)}.db`);
    const log = recorder();
    const client = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...node.clientOptions, dbPath, logger: log, ...(nowNs ? { nowNs } : {}) });
    return { client, dbPath, log };
  }

  async function joined(client: Client, id: string): Promise<Group> {
    await client.conversations.sync();
    const group = client.conversations.getConversationById(id);
    assert.ok(group instanceof Group, "joined from the welcome");
    return group;
  }

  async function publish(groupId: Uint8Array, data: Uint8Array): Promise<bigint> {
    await api.mls.sendGroupMessages({ messages: [groupMessageInput(data, false)] });
    const res = await api.mls.queryGroupMessages({ groupId });
    const ids = res.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value.id] : []));
    return ids.reduce((a, b) => (a > b ? a : b));
  }

  /** Four members on leaves 0-3, Alice (the creator) on leaf 0; each has joined. */
  async function fourMembers() {
    const users = [await newClient(), await newClient(), await newClient(), await newClient()];
    const alice = users[0]!;
    const group = await alice.client.conversations.createGroup(users.slice(1).map((u) => u.client.inboxId));
    const leaves = groupMembers(storedGroup(alice.dbPath, group.groupIdBytes));
    const byLeaf = (i: number) => {
      const member = leaves.find((m) => m.leafIndex === i);
      const user = users.find((u) => u.client.inboxId === member?.inboxId);
      assert.ok(user, `a member on leaf ${i}`);
      return user;
    };
    assert.equal(byLeaf(0), alice);
    const groups = new Map<Client, Group>([[alice.client, group]]);
    for (const u of users.slice(1)) groups.set(u.client, await joined(u.client, group.id));
    const groupOf = (u: { client: Client }) => groups.get(u.client)!;
    const close = () => {
      for (const u of users) u.client.close();
    };
    return { users, alice, group, byLeaf, groupOf, close };
  }

  // The engine's MLS rules (mls.invalid) are refused as a message that does
  // not verify (incoming-failure.ts), as a bad signature is.
  const refusedAt = (u: { log: ReturnType<typeof recorder> }, cursor: bigint) =>
    u.log.refusals().some((r) => r.code === "refused.undecryptable" && r.cursor === cursor.toString());

  const texts = async (g: Group) => (await g.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

  it("a commit whose UpdatePath public key does not match the path secret it delivers is refused by the member who can tell", async () => {
    const { alice, group, byLeaf, groupOf, close } = await fourMembers();
    const bob = byLeaf(1);
    const carol = byLeaf(2);
    const epoch = storedGroup(bob.dbPath, group.groupIdBytes).epoch;
    // Node 1, the parent of leaves 0 and 1: only Bob (leaf 1) gets its path
    // secret. Its published public key is another one, whose private key
    // nobody has: every later commit encrypted to node 1 would leave Bob out.
    const forged = await forgedCommit(storedGroup(alice.dbPath, group.groupIdBytes), async (k, honest, suite) =>
      k === 1 ? suite.hpke.generateKeyPair() : honest,
    );
    const cursor = await publish(group.groupIdBytes, forged);
    await groupOf(bob).sync();
    assert.equal(storedGroup(bob.dbPath, group.groupIdBytes).epoch, epoch, "Bob took a commit whose key for node 1 is not the one its path secret gives");
    assert.ok(refusedAt(bob, cursor), "refused, with its cursor in the log");
    // Carol cannot tell (she holds no key for node 1): she applies it.
    await groupOf(carol).sync();
    assert.equal(storedGroup(carol.dbPath, group.groupIdBytes).epoch, epoch + 1n);
    close();
  });

  it("a commit whose new leaf encryption key duplicates one in the tree is refused, and later commits still apply", async () => {
    const { alice, group, byLeaf, groupOf, close } = await fourMembers();
    const bob = byLeaf(1);
    const carol = byLeaf(2);
    const before = storedGroup(bob.dbPath, group.groupIdBytes);
    const bobsKey = groupMembers(before).find((m) => m.leafIndex === 1)?.encryptionKey;
    assert.ok(bobsKey);
    const forged = await forgedCommit(storedGroup(alice.dbPath, group.groupIdBytes), async (k, honest, suite) =>
      k === 0 ? { privateKey: honest.privateKey, publicKey: await suite.hpke.importPublicKey(bobsKey) } : honest,
    );
    const cursor = await publish(group.groupIdBytes, forged);
    for (const u of [bob, carol]) {
      await groupOf(u).sync();
      assert.equal(storedGroup(u.dbPath, group.groupIdBytes).epoch, before.epoch, "a commit giving Alice Bob's encryption key applied");
      assert.ok(refusedAt(u, cursor), "refused, with its cursor in the log");
    }
    // The group goes on: the next honest commit and message apply for everyone.
    await groupOf(carol).updateName("after the forgery");
    await groupOf(carol).send("still talking");
    await groupOf(bob).sync();
    assert.equal(storedGroup(bob.dbPath, group.groupIdBytes).epoch, before.epoch + 1n);
    assert.deepEqual(await texts(groupOf(bob)), ["still talking"]);
    close();
  });
  it("an added key package's lifetime is judged at the commit's time: a member who syncs after it ran out applies what the others applied", async () => {
    const alice = await newClient();
    // Bob's client keeps today's time; only what reads the machine's clock
    // directly (the engine's own lifetime check) sees the late sync.
    const today = BigInt(Date.now()) * 1_000_000n;
    const bob = await newClient(() => today);
    const carol = await newClient();
    const group = await alice.client.conversations.createGroup([bob.client.inboxId]);
    const bobs = await joined(bob.client, group.id);
    await bobs.sync();
    const epoch = storedGroup(bob.dbPath, group.groupIdBytes).epoch;
    await group.addMembers([carol.client.inboxId]);
    await joined(carol.client, group.id);

    const thirteenWeeks = 13 * 7 * 24 * 3600 * 1000; // past the 12-week lifetime of Carol's key package
    mock.timers.enable({ apis: ["Date"], now: Date.now() + thirteenWeeks });
    try {
      await bobs.sync();
    } finally {
      mock.timers.reset();
    }
    assert.equal(storedGroup(bob.dbPath, group.groupIdBytes).epoch, epoch + 1n, "Bob, syncing late, refused the add the others applied");
    assert.deepEqual((await bobs.members()).map((m) => m.inboxId).sort(), [alice.client.inboxId, bob.client.inboxId, carol.client.inboxId].sort());
    for (const u of [alice, bob, carol]) u.client.close();
  });
  it("a member removed by a commit the others refuse refuses it too, and stays", async () => {
    const { alice, group, byLeaf, groupOf, close } = await fourMembers();
    const bob = byLeaf(1);
    const carol = byLeaf(2);
    const before = storedGroup(bob.dbPath, group.groupIdBytes);
    const carolsKey = groupMembers(before).find((m) => m.leafIndex === 2)?.encryptionKey;
    assert.ok(carolsKey);
    // Alice, a super admin, removes Bob as XMTP does it (the Remove and the
    // membership map without his inbox), but her new leaf takes Carol's
    // encryption key: a rule (RFC 9420 7.3) every other member refuses.
    const forged = await forgedCommit(
      storedGroup(alice.dbPath, group.groupIdBytes),
      async (k, honest, suite) => (k === 0 ? { privateKey: honest.privateKey, publicKey: await suite.hpke.importPublicKey(carolsKey) } : honest),
      (engine) => {
        const extensions = engine.groupContext.extensions.map((e) => {
          if (e.extensionType !== ExtensionId.groupMembership || !(e.extensionData instanceof Uint8Array)) return e;
          const members = decodeMembership(e.extensionData);
          members.delete(bob.client.inboxId);
          return { ...e, extensionData: encodeMembership(members) };
        });
        return [
          { proposalType: tsMls.defaultProposalTypes.remove, remove: { removed: 1 } },
          { proposalType: tsMls.defaultProposalTypes.group_context_extensions, groupContextExtensions: { extensions } },
        ];
      },
    );
    const cursor = await publish(group.groupIdBytes, forged);
    for (const u of [carol, bob]) {
      await groupOf(u).sync();
      assert.equal(storedGroup(u.dbPath, group.groupIdBytes).epoch, before.epoch, "the forged removal applied");
      assert.ok(refusedAt(u, cursor), "refused, with its cursor in the log");
    }
    assert.equal(groupOf(bob).isActive, true, "Bob left on a commit the others refused");
    await group.send("Bob is still here");
    await groupOf(bob).sync();
    assert.deepEqual(await texts(groupOf(bob)), ["Bob is still here"]);
    close();
  });
});
