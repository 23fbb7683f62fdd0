// A member's standalone proposals (RFC 9420 12.1), through a node in this
// process. XMTP never sends one: every change is a commit carrying its
// proposals by value (../shared/spec/xmtp-client.md 3.3, 3.7). So a
// standalone proposal is refused by every member, never stored, and so
// never rides in another member's commit, an automatic key update
// included; a commit naming one by reference does not apply either.
//
// The forged proposals are built from Mallory's stored state with the
// engine itself (the one @parley/mls loads), exactly what a misbehaving
// client could publish.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPrivateKeySigner } from "@parley/identity";
import { encodeGroupState, nodeCryptoProvider, tsMls, type GroupState } from "@parley/mls";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, type ApiClient } from "./api/api-client.js";
import { decodeMutableMetadata, encodeMutableMetadata } from "./conversations/group-metadata.js";
import { Client, Group, GroupMessageKind } from "./index.js";
import type { ClientLogger } from "./logging.js";
import { publish, recorder, refusedAt, storedGroup } from "./client-fixtures.test-util.js";






type EngineState = Parameters<typeof tsMls.createProposal>[0]["state"];

/** The engine's own state of a stored group (the stored form is a version byte, then ts-mls's encoding). */
function engineState(state: GroupState): EngineState {
  const engine = tsMls.decode(tsMls.clientStateDecoder, encodeGroupState(state).subarray(1));
  assert.ok(engine);
  return engine;
}

async function engineContext() {
  return { cipherSuite: await tsMls.getCiphersuiteImpl("MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519", nodeCryptoProvider), authService: tsMls.unsafeTestingAuthenticationService };
}

/** A GroupContextExtensions proposal rewriting the mutable metadata (0xFF00), as a standalone PrivateMessage. */
async function proposeMetadata(state: EngineState, edit: (meta: ReturnType<typeof decodeMutableMetadata>) => void) {
  const extensions = state.groupContext.extensions.map((e) => {
    if (e.extensionType !== 0xff00) return e;
    const meta = decodeMutableMetadata(e.extensionData);
    edit(meta);
    return { ...e, extensionData: encodeMutableMetadata(meta) };
  });
  const proposal = { proposalType: tsMls.defaultProposalTypes.group_context_extensions, groupContextExtensions: { extensions } };
  const result = await tsMls.createProposal({ context: await engineContext(), state, proposal, wireAsPublicMessage: false });
  return { state: result.newState, bytes: tsMls.encode(tsMls.mlsMessageEncoder, result.message) };
}

describe("@parley/client: standalone proposals are refused, and never ride in a commit", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-proposals-"));
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

  const newClient = async (options: { logger?: ClientLogger; db?: string; nowNs?: () => bigint } = {}) => {
    const c = await Client.create(createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      ...(options.nowNs === undefined ? {} : { nowNs: options.nowNs }),
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

  const texts = async (group: Group) => (await group.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

  it("a member's proposal naming herself super admin is refused, and the super admin's next key update does not carry it", async () => {
    const aliceLog = recorder();
    const bobLog = recorder();
    // Alice's clock, moved on a month below so that her next send commits
    // a key update first (xmtp-client.md 3.8).
    let aliceSkewNs = 0n;
    const alice = await newClient({ logger: aliceLog, nowNs: () => BigInt(Date.now()) * 1_000_000n + aliceSkewNs });
    const bob = await newClient({ logger: bobLog });
    const mallory = await newClient({ db: "mallory-super.db" });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId]);
    const bobs = await joined(bob, group.id);
    await joined(mallory, group.id);

    const forged = await proposeMetadata(engineState(storedGroup(join(dir, "mallory-super.db"), group.groupIdBytes)), (meta) => {
      meta.superAdminList = { $typeName: "xmtp.mls.message_contents.Inboxes", inboxIds: [...(meta.superAdminList?.inboxIds ?? []), mallory.inboxId] };
    });
    const cursor = await publish(api, group.groupIdBytes, forged.bytes);
    await group.sync();
    await bobs.sync();

    // The super admin's automatic key update: before, it took Mallory's
    // stored proposal along by reference, and every receiver judged the
    // change against Alice.
    aliceSkewNs = 31n * 24n * 3600n * 1_000_000_000n;
    await group.send("a month later");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["a month later"]);
    assert.deepEqual(bobs.listSuperAdmins(), [alice.inboxId]);
    assert.deepEqual(group.listSuperAdmins(), [alice.inboxId]);
    refusedAt(aliceLog, "refused.proposal", cursor);
    refusedAt(bobLog, "refused.proposal", cursor);
    await bobs.send("one group still");
    await group.sync();
    assert.deepEqual(await texts(group), ["a month later", "one group still"]);
  });

  it("an allowed change proposed alone does not ride in another member's automatic key update", async () => {
    const aliceLog = recorder();
    const alice = await newClient({ logger: aliceLog });
    const bob = await newClient();
    const mallory = await newClient({ db: "mallory-rename.db" });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId], { groupName: "ours" });
    const bobs = await joined(bob, group.id);
    await joined(mallory, group.id);

    // Every member may rename under the default policy: the proposal breaks
    // no permission, only XMTP's rule that changes come in commits.
    const forged = await proposeMetadata(engineState(storedGroup(join(dir, "mallory-rename.db"), group.groupIdBytes)), (meta) => {
      meta.attributes["group_name"] = "renamed unseen";
    });
    const cursor = await publish(api, group.groupIdBytes, forged.bytes);
    await bobs.sync();
    // Bob just joined: his first send commits a key update first.
    await bobs.send("hello");
    await group.sync();
    assert.equal(group.name, "ours");
    assert.equal(bobs.name, "ours");
    refusedAt(aliceLog, "refused.proposal", cursor);
    assert.deepEqual(await texts(group), ["hello"]);
  });

  it("a commit naming a proposal by reference does not apply, for any member", async () => {
    const bobLog = recorder();
    const alice = await newClient();
    const bob = await newClient({ logger: bobLog });
    const mallory = await newClient({ db: "mallory-ref.db" });
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId], { groupName: "ours" });
    const bobs = await joined(bob, group.id);
    await joined(mallory, group.id);

    const proposed = await proposeMetadata(engineState(storedGroup(join(dir, "mallory-ref.db"), group.groupIdBytes)), (meta) => {
      meta.attributes["group_name"] = "by reference";
    });
    await publish(api, group.groupIdBytes, proposed.bytes);
    // ts-mls's createCommit takes every stored proposal by reference.
    const commit = await tsMls.createCommit({ context: await engineContext(), state: proposed.state, ratchetTreeExtension: true, wireAsPublicMessage: false });
    const cursor = await publish(api, group.groupIdBytes, tsMls.encode(tsMls.mlsMessageEncoder, commit.commit));
    await group.sync();
    await bobs.sync();
    assert.equal(bobs.name, "ours");
    assert.equal(group.name, "ours");
    refusedAt(bobLog, "refused.undecryptable", cursor);
    await group.send("still one group");
    await bobs.sync();
    assert.deepEqual(await texts(bobs), ["still one group"]);
  });
});
