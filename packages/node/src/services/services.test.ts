// MlsApi and IdentityApi over gRPC, on a node in this process (the port is
// transport.test.ts's subject), with the real validators: what is valid
// is stored and served back by the reference rules, what is not is refused
// with INVALID_ARGUMENT and leaves nothing behind.
import assert from "node:assert/strict";
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { asInboxId, createKeyPackage, ed25519Keygen } from "@parley/mls";
import { associations, decode, identityApi, messageContents, mlsApi } from "@parley/proto";
import { createInProcessTestNode, mlsSamples, officialRegistration, privateMessageOfSize, type InProcessTestNode, type MlsSamples } from "@parley/testkit";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Page, Store } from "../store/store.js";
import { codeOf } from "../grpc-code.test-util.js";

const randomBytes = (length: number) => new Uint8Array(nodeRandomBytes(length));
const u8 = (bytes: Uint8Array | undefined) => new Uint8Array(bytes ?? []);


const v1 = (data: Uint8Array) => ({ version: { case: "v1" as const, value: { data, senderHmac: new Uint8Array([9]), shouldPush: true } } });
const ascending = (limit = 0, idCursor = 0n) => ({ direction: mlsApi.SortDirection.ASCENDING, limit, idCursor });

describe("node services with XMTP validation", () => {
  let node: InProcessTestNode;
  let mls: Client<typeof mlsApi.MlsApi>;
  let identity: Client<typeof identityApi.IdentityApi>;
  let samples: MlsSamples;
  const registration = officialRegistration();

  before(async () => {
    samples = await mlsSamples();
    node = createInProcessTestNode({ requestLimits: { maxPayloadBytes: 64 * 1024 } });
    mls = createClient(mlsApi.MlsApi, node.transport);
    identity = createClient(identityApi.IdentityApi, node.transport);
  });
  after(() => node.stop());

  describe("key packages", () => {
    it("files a valid key package under its leaf's signature key and serves the latest", async () => {
      await mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: samples.keyPackage }, isInboxIdCredential: true });
      const missing = randomBytes(32);
      const found = await mls.fetchKeyPackages({ installationKeys: [samples.installationKey, missing, samples.installationKey] });
      assert.deepEqual(
        found.keyPackages.map((k) => k.keyPackageTlsSerialized.length > 0),
        [true, false, true],
        "same length and order as asked; empty for an unknown key; a repeated key filled twice",
      );
      assert.deepEqual(u8(found.keyPackages[0]?.keyPackageTlsSerialized), u8(samples.keyPackage));
      const registered = await mls.registerInstallation({ keyPackage: { keyPackageTlsSerialized: samples.keyPackage } });
      assert.deepEqual(u8(registered.installationKey), u8(samples.installationKey));
    });

    it("never lets a replayed older key package replace the installation's newer one", async () => {
      const signer = { inboxId: asInboxId("ab".repeat(32)), privateKey: ed25519Keygen().signKey };
      const now = BigInt(Math.floor(Date.now() / 1000));
      const older = await createKeyPackage(signer, { nowSeconds: now - 3600n });
      const newer = await createKeyPackage(signer, { nowSeconds: now });
      const upload = (bytes: Uint8Array) => mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: bytes }, isInboxIdCredential: true });
      await upload(older.keyPackage);
      await upload(newer.keyPackage);
      // Key packages are public: anyone who fetched the older one can send it again.
      assert.equal(await codeOf(upload(older.keyPackage)), Code.FailedPrecondition);
      const found = await mls.fetchKeyPackages({ installationKeys: [newer.installationKey] });
      assert.deepEqual(u8(found.keyPackages[0]?.keyPackageTlsSerialized), u8(newer.keyPackage), "the newer one is still served");
      await upload(newer.keyPackage);
    });

    it("refuses garbage, a tampered key package and none, storing nothing", async () => {
      const tampered = samples.keyPackage.slice();
      tampered[tampered.length - 10]! ^= 1;
      for (const bytes of [randomBytes(200), tampered, samples.keyPackage.subarray(0, 100)]) {
        assert.equal(await codeOf(mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: bytes } })), Code.InvalidArgument);
      }
      assert.equal(await codeOf(mls.uploadKeyPackage({})), Code.InvalidArgument);
    });
  });

  describe("group messages", () => {
    it("takes the group id and the commit flag from the framing, and pages by the reference rules", async () => {
      await mls.sendGroupMessages({ messages: [...samples.applicationMessages, samples.commit].map(v1) });
      const page = await mls.queryGroupMessages({ groupId: samples.groupId, pagingInfo: ascending() });
      assert.equal(page.messages.length, 4);
      const stored = page.messages.map((m) => (m.version.case === "v1" ? m.version.value : undefined));
      assert.deepEqual(stored.map((m) => m?.isCommit), [false, false, false, true]);
      assert.deepEqual(u8(stored[0]?.groupId), u8(samples.groupId));
      assert.deepEqual(u8(stored[0]?.data), u8(samples.applicationMessages[0]));
      assert.deepEqual(u8(stored[0]?.senderHmac), new Uint8Array([9]));
      assert.equal(page.pagingInfo?.idCursor, 0n, "not a full page");

      const firstTwo = await mls.queryGroupMessages({ groupId: samples.groupId, pagingInfo: ascending(2) });
      assert.equal(firstTwo.pagingInfo?.idCursor, firstTwo.messages.at(-1)?.version.value?.id);
      const rest = await mls.queryGroupMessages({ groupId: samples.groupId, pagingInfo: ascending(2, firstTwo.pagingInfo?.idCursor) });
      assert.deepEqual(rest.messages.map((m) => m.version.value?.id), stored.slice(2).map((m) => m?.id));
      const newest = await mls.queryGroupMessages({ groupId: samples.groupId });
      assert.deepEqual(newest.messages.map((m) => m.version.value?.id), stored.map((m) => m?.id).reverse(), "descending by default");
    });

    it("accepts a re-sent message once", async () => {
      await mls.sendGroupMessages({ messages: [v1(samples.applicationMessages[0]!)] });
      const page = await mls.queryGroupMessages({ groupId: samples.groupId, pagingInfo: ascending() });
      assert.equal(page.messages.length, 4);
    });

    it("refuses a send with one bad message as a whole", async () => {
      const fresh = await mlsSamples(1);
      const code = await codeOf(mls.sendGroupMessages({ messages: [v1(fresh.applicationMessages[0]!), v1(randomBytes(80))] }));
      assert.equal(code, Code.InvalidArgument);
      const page = await mls.queryGroupMessages({ groupId: fresh.groupId });
      assert.deepEqual(page.messages, [], "nothing of the refused send was stored");
    });

    it("refuses a key package or Welcome framing, a missing version and an oversized payload", async () => {
      assert.equal(await codeOf(mls.sendGroupMessages({ messages: [v1(samples.keyPackage)] })), Code.InvalidArgument);
      assert.equal(await codeOf(mls.sendGroupMessages({ messages: [{}] })), Code.InvalidArgument);
      assert.equal(await codeOf(mls.sendGroupMessages({ messages: [v1(new Uint8Array(64 * 1024 + 1))] })), Code.InvalidArgument);
    });

    it("answers the newest message per group, with or without content", async () => {
      const empty = randomBytes(16);
      const newest = await mls.getNewestGroupMessage({ groupIds: [empty, samples.groupId], includeContent: false });
      assert.equal(newest.responses.length, 2);
      assert.equal(newest.responses[0]?.groupMessage, undefined);
      const message = newest.responses[1]?.groupMessage?.version.value;
      assert.equal(message?.isCommit, true);
      assert.equal(message?.data.length, 0, "no content unless asked for");
      const withContent = await mls.getNewestGroupMessage({ groupIds: [samples.groupId], includeContent: true });
      assert.deepEqual(u8(withContent.responses[0]?.groupMessage?.version.value?.data), u8(samples.commit));
    });
  });

  describe("welcomes", () => {
    const key = randomBytes(32);
    it("stores by installation key, reads UNSPECIFIED as Curve25519, deduplicates", async () => {
      const welcome = {
        version: {
          case: "v1" as const,
          value: { installationKey: key, data: randomBytes(300), hpkePublicKey: randomBytes(32), welcomeMetadata: randomBytes(20) },
        },
      };
      await mls.sendWelcomeMessages({ messages: [welcome, welcome] });
      const page = await mls.queryWelcomeMessages({ installationKey: key });
      assert.equal(page.messages.length, 1);
      const stored = page.messages[0]?.version;
      assert.equal(stored?.case, "v1");
      if (stored?.case !== "v1") return;
      assert.equal(stored.value.wrapperAlgorithm, messageContents.WelcomeWrapperAlgorithm.CURVE25519);
      assert.deepEqual(u8(stored.value.welcomeMetadata), u8(welcome.version.value.welcomeMetadata));
    });

    it("refuses welcomes missing what the reference requires", async () => {
      const bad = [
        { version: { case: "v1" as const, value: { installationKey: key, data: randomBytes(10) } } },
        { version: { case: "v1" as const, value: { data: randomBytes(10), hpkePublicKey: randomBytes(32) } } },
        {
          version: {
            case: "welcomePointer" as const,
            value: { installationKey: key, welcomePointer: randomBytes(10), hpkePublicKey: randomBytes(32) },
          },
        },
        {},
      ];
      for (const message of bad) {
        assert.equal(await codeOf(mls.sendWelcomeMessages({ messages: [message] })), Code.InvalidArgument);
      }
    });
  });

  describe("commit log", () => {
    it("keeps entries in order per group and refuses descending queries and oversized batches", async () => {
      const groupId = randomBytes(16);
      const entry = { groupId, serializedCommitLogEntry: randomBytes(40), signature: { bytes: randomBytes(64), publicKey: randomBytes(32) } };
      await mls.batchPublishCommitLog({ requests: [entry, entry] });
      const answer = await mls.batchQueryCommitLog({ requests: [{ groupId }] });
      const entries = answer.responses[0]?.commitLogEntries ?? [];
      assert.equal(entries.length, 2);
      assert.ok(entries[1]!.sequenceId > entries[0]!.sequenceId);
      assert.deepEqual(u8(entries[0]?.signature?.publicKey), u8(entry.signature.publicKey));
      assert.equal(
        await codeOf(mls.batchQueryCommitLog({ requests: [{ groupId, pagingInfo: { direction: mlsApi.SortDirection.DESCENDING } }] })),
        Code.InvalidArgument,
      );
      assert.equal(await codeOf(mls.batchPublishCommitLog({ requests: Array.from({ length: 11 }, () => entry) })), Code.InvalidArgument);
      assert.equal(await codeOf(mls.batchQueryCommitLog({ requests: Array.from({ length: 21 }, () => ({ groupId })) })), Code.InvalidArgument);
    });
  });

  describe("identity", () => {
    const captured = decode(identityApi.PublishIdentityUpdateRequestSchema, registration.request("PublishIdentityUpdate"));

    it("stores the official client's registration and serves it back", async () => {
      await identity.publishIdentityUpdate(captured);
      const answer = await identity.getIdentityUpdates({ requests: [{ inboxId: registration.inboxId, sequenceId: 0n }, { inboxId: "ab".repeat(32) }] });
      assert.equal(answer.responses.length, 2);
      const log = answer.responses[0]?.updates ?? [];
      assert.equal(log.length, 1);
      assert.ok((log[0]?.sequenceId ?? 0n) > 0n);
      assert.ok((log[0]?.serverTimestampNs ?? 0n) > 0n);
      assert.equal(log[0]?.update?.inboxId, registration.inboxId);
      assert.deepEqual(answer.responses[1]?.updates, []);
      const later = await identity.getIdentityUpdates({ requests: [{ inboxId: registration.inboxId, sequenceId: log[0]?.sequenceId ?? 0n }] });
      assert.deepEqual(later.responses[0]?.updates, []);

      const inboxes = await identity.getInboxIds({
        requests: [
          { identifier: registration.walletAddress, identifierKind: associations.IdentifierKind.ETHEREUM },
          { identifier: "0x" + "00".repeat(20), identifierKind: associations.IdentifierKind.ETHEREUM },
        ],
      });
      assert.equal(inboxes.responses[0]?.inboxId, registration.inboxId);
      assert.equal(inboxes.responses[0]?.identifierKind, associations.IdentifierKind.ETHEREUM);
      assert.equal(inboxes.responses[1]?.inboxId, undefined);
    });

    it("refuses a replayed, a forged and a malformed update", async () => {
      assert.equal(await codeOf(identity.publishIdentityUpdate(captured)), Code.InvalidArgument, "replayed");
      const forged = create(identityApi.PublishIdentityUpdateRequestSchema, captured);
      const update = forged.identityUpdate!;
      const other = create(associations.IdentityUpdateSchema, { ...update, inboxId: "cd".repeat(32) });
      assert.equal(await codeOf(identity.publishIdentityUpdate({ identityUpdate: other })), Code.InvalidArgument, "wrong inbox id");
      assert.equal(await codeOf(identity.publishIdentityUpdate({ identityUpdate: { ...update, inboxId: "not hex" } })), Code.InvalidArgument);
      assert.equal(await codeOf(identity.publishIdentityUpdate({})), Code.InvalidArgument);
      const log = await identity.getIdentityUpdates({ requests: [{ inboxId: "cd".repeat(32) }] });
      assert.deepEqual(log.responses[0]?.updates, []);
    });

    it("reports smart contract wallet signatures invalid without a verifier", async () => {
      const answer = await identity.verifySmartContractWalletSignatures({ signatures: [{ accountId: "eip155:1:0x00" }] });
      assert.equal(answer.responses[0]?.isValid, false);
      assert.ok(answer.responses[0]?.error);
    });
  });

  describe("subscriptions", () => {
    it("deliver every message of their groups after the cursor, in order, once, under concurrent senders", async () => {
      const groups = await Promise.all([mlsSamples(25), mlsSamples(25), mlsSamples(25)]);
      // History before the stream opens: the first five of each group.
      await Promise.all(groups.map((g) => mls.sendGroupMessages({ messages: g.applicationMessages.slice(0, 5).map(v1) })));
      const cursors = await Promise.all(
        groups.map(async (g) => (await mls.queryGroupMessages({ groupId: g.groupId, pagingInfo: ascending(2) })).messages[1]!.version.value!.id),
      );
      const stream = mls.subscribeGroupMessages({
        filters: groups.map((g, i) => ({ groupId: g.groupId, idCursor: cursors[i]! })),
      });
      const expected = 3 * 23;
      const received = new Map<string, Uint8Array[]>();
      const reading = (async () => {
        let count = 0;
        for await (const message of stream) {
          const value = message.version.value!;
          const key = Buffer.from(value.groupId).toString("hex");
          received.set(key, [...(received.get(key) ?? []), u8(value.data)]);
          if (++count === expected) break;
        }
      })();
      // Three senders at once, one message a call, while the stream is open.
      await Promise.all(
        groups.map(async (g) => {
          for (const data of g.applicationMessages.slice(5)) await mls.sendGroupMessages({ messages: [v1(data)] });
        }),
      );
      await reading;
      for (const g of groups) {
        assert.deepEqual(
          received.get(Buffer.from(g.groupId).toString("hex")),
          g.applicationMessages.slice(2).map(u8),
          "from after the cursor, every message in send order, none twice",
        );
      }
    });
  });
});

describe("answers are bounded in bytes", () => {
  let node: InProcessTestNode;
  let mls: Client<typeof mlsApi.MlsApi>;
  let identity: Client<typeof identityApi.IdentityApi>;
  let samples: MlsSamples;
  const registration = officialRegistration();
  let budget = 0;

  before(async () => {
    samples = await mlsSamples();
    const update = registration.request("PublishIdentityUpdate").length;
    // Room for one key package or identity update, not two; the four sample
    // messages (three small, one commit) need several pages.
    budget = Math.max(samples.keyPackage.length, update) + 32;
    node = createInProcessTestNode({ requestLimits: { maxAnswerBytes: budget } });
    mls = createClient(mlsApi.MlsApi, node.transport);
    identity = createClient(identityApi.IdentityApi, node.transport);
  });
  after(() => node.stop());

  it("a key asked for many times is answered in every slot until the answer would pass the limit, then RESOURCE_EXHAUSTED", async () => {
    await mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: samples.keyPackage }, isInboxIdCredential: true });
    const fits = Math.floor(budget / samples.keyPackage.length);
    assert.ok(fits >= 1);
    const few = await mls.fetchKeyPackages({ installationKeys: Array.from({ length: fits }, () => samples.installationKey) });
    assert.equal(few.keyPackages.filter((k) => k.keyPackageTlsSerialized.length > 0).length, fits);
    const many = mls.fetchKeyPackages({ installationKeys: Array.from({ length: 5000 }, () => samples.installationKey) });
    assert.equal(await codeOf(many), Code.ResourceExhausted, "a 160 KB request no longer brings back 5000 key packages");
  });

  it("a page stops at the byte limit and its cursor leads on to the rest, none lost", async () => {
    await mls.sendGroupMessages({ messages: [...samples.applicationMessages, samples.commit].map(v1) });
    const seen: bigint[] = [];
    let cursor = 0n;
    let pages = 0;
    for (; pages < 10; pages++) {
      const page = await mls.queryGroupMessages({ groupId: samples.groupId, pagingInfo: ascending(0, cursor) });
      const data = page.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value] : []));
      const bytes = data.reduce((n, m) => n + m.data.length + m.senderHmac.length, 0);
      assert.ok(data.length >= 1, "a page always carries its first record");
      assert.ok(bytes <= budget || data.length === 1, "and more only within the limit");
      seen.push(...data.map((m) => m.id));
      cursor = page.pagingInfo?.idCursor ?? 0n;
      if (cursor === 0n) break;
    }
    assert.ok(pages > 0, "the limit cut at least one page");
    assert.equal(seen.length, 4);
    assert.deepEqual([...seen].sort((a, b) => (a < b ? -1 : 1)), seen, "ascending, each once");
  });

  it("a page of large messages reads no more from the store than its budget (and one record)", async () => {
    const reads = { bytes: 0 };
    const store = new SqliteStore({ path: ":memory:" });
    const counted: Store = Object.assign(Object.create(store) as Store, {
      queryGroupMessages: async (groupId: Uint8Array, page: Page) => {
        const records = await store.queryGroupMessages(groupId, page);
        reads.bytes += records.reduce((n, r) => n + r.data.length + r.senderHmac.length, 0);
        return records;
      },
    });
    const large = createInProcessTestNode({ store: counted, requestLimits: { maxAnswerBytes: 1024 * 1024 } });
    try {
      const api = createClient(mlsApi.MlsApi, large.transport);
      const groupId = randomBytes(16);
      for (let i = 0; i < 20; i += 1) await api.sendGroupMessages({ messages: [v1(privateMessageOfSize(groupId, 400 * 1024))] });
      const page = await api.queryGroupMessages({ groupId, pagingInfo: ascending(100) });
      assert.equal(page.messages.length, 2, "two of 400 KiB fit a budget of 1 MiB");
      assert.notEqual(page.pagingInfo?.idCursor, 0n, "the cut page says where to go on");
      assert.ok(reads.bytes <= 1024 * 1024, `${reads.bytes} bytes read from the store for a page of 1 MiB`);
    } finally {
      await large.stop();
    }
  });

  it("the newest message of a group asked for many times, with content, is bounded; without content it is not", async () => {
    const fresh = await mlsSamples(1);
    const message = fresh.applicationMessages[0] ?? new Uint8Array();
    await mls.sendGroupMessages({ messages: [v1(message)] });
    const fits = Math.floor(budget / (message.length + 1));
    assert.ok(fits >= 1);
    const ask = (count: number, includeContent: boolean) =>
      mls.getNewestGroupMessage({ groupIds: Array.from({ length: count }, () => fresh.groupId), includeContent });
    const few = await ask(fits, true);
    assert.equal(few.responses.filter((r) => r.groupMessage?.version.value?.data.length).length, fits);
    assert.equal(await codeOf(ask(5000, true)), Code.ResourceExhausted, "a 100 KB request no longer brings back 5000 messages");
    assert.equal((await ask(5000, false)).responses.length, 5000);
  });

  it("commit log queries share one budget: a page stops at it with a cursor that leads on", async () => {
    const groupId = randomBytes(16);
    // Two entries do not fit the budget together.
    const entries = [0, 1].map(() => ({ groupId, serializedCommitLogEntry: randomBytes(Math.ceil(budget / 2)), signature: { bytes: randomBytes(64) } }));
    await mls.batchPublishCommitLog({ requests: entries });
    const answer = await mls.batchQueryCommitLog({ requests: Array.from({ length: 20 }, () => ({ groupId })) });
    const first = answer.responses[0];
    assert.equal(first?.commitLogEntries.length, 1);
    assert.deepEqual(first.commitLogEntries[0]?.serializedCommitLogEntry, entries[0]?.serializedCommitLogEntry);
    assert.equal(first.pagingInfo?.idCursor, first.commitLogEntries[0]?.sequenceId, "the cursor leads on");
    const total = answer.responses.reduce((n, r) => n + r.commitLogEntries.length, 0);
    assert.equal(total, 20, "every later page carries its first entry only");
    const rest = await mls.batchQueryCommitLog({ requests: [{ groupId, pagingInfo: { idCursor: first.pagingInfo?.idCursor ?? 0n } }] });
    assert.deepEqual(rest.responses[0]?.commitLogEntries.map((e) => e.serializedCommitLogEntry), [entries[1]?.serializedCommitLogEntry]);
  });

  it("an inbox asked for many times is read once and the answer is bounded", async () => {
    const captured = decode(identityApi.PublishIdentityUpdateRequestSchema, registration.request("PublishIdentityUpdate"));
    await identity.publishIdentityUpdate(captured);
    const inboxId = registration.inboxId;
    const tooMany = identity.getIdentityUpdates({ requests: Array.from({ length: 5000 }, () => ({ inboxId, sequenceId: 0n })) });
    assert.equal(await codeOf(tooMany), Code.ResourceExhausted);
    const one = await identity.getIdentityUpdates({ requests: [{ inboxId, sequenceId: 0n }] });
    assert.equal(one.responses[0]?.updates.length, 1);
  });
});
