// The behaviour every Store implementation owes the node, as one suite that
// each backend runs unchanged (sqlite-store.test.ts; a PostgreSQL store, planned, will run it too).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { ExpiryCutoff, NewGroupMessage, Page, Store } from "./store.js";

export interface StoreFactory {
  /**
   * Opens the backend's storage; a second open sees what the first wrote.
   * `nowNs` replaces the wall clock, for tests of what the store does when
   * the clock stands still or goes back.
   */
  open(options?: { readonly nowNs?: () => bigint }): Promise<Store>;
  /** Removes the storage for good. */
  destroy(): Promise<void>;
}

const ascending = (limit = 100, cursor = 0n): Page => ({ direction: "ascending", limit, cursor });
const descending = (limit = 100, cursor = 0n): Page => ({ direction: "descending", limit, cursor });

function message(groupId: Uint8Array, text: string, isCommit = false): NewGroupMessage {
  return {
    groupId,
    data: new TextEncoder().encode(text),
    senderHmac: new Uint8Array([1, 2]),
    shouldPush: !isCommit,
    isCommit,
  };
}

const decodeText = (data: Uint8Array) => new TextDecoder().decode(data);

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await factory.open();
    });
    after(async () => {
      await store.close();
      await factory.destroy();
    });

    describe("group messages", () => {
      it("pages ascending and descending with an exclusive cursor", async () => {
        const group = randomBytes(16);
        const stored = await store.appendGroupMessages(["a", "b", "c", "d", "e"].map((t) => message(group, t)));
        const ids = stored.map((r) => r.id);
        assert.deepEqual([...ids].sort((x, y) => (x < y ? -1 : 1)), ids, "ids increase in order");

        const all = await store.queryGroupMessages(group, ascending());
        assert.deepEqual(all.map((r) => decodeText(r.data)), ["a", "b", "c", "d", "e"]);
        const afterSecond = await store.queryGroupMessages(group, ascending(2, ids[1]));
        assert.deepEqual(afterSecond.map((r) => decodeText(r.data)), ["c", "d"]);
        const newest = await store.queryGroupMessages(group, descending(2));
        assert.deepEqual(newest.map((r) => decodeText(r.data)), ["e", "d"]);
        const beforeFourth = await store.queryGroupMessages(group, descending(100, ids[3]));
        assert.deepEqual(beforeFourth.map((r) => decodeText(r.data)), ["c", "b", "a"]);
      });

      it("answers the sizes of a page's records as it would page them, and ends a page at its far bound", async () => {
        const group = randomBytes(16);
        const stored = await store.appendGroupMessages(["a", "bb", "ccc", "dddd"].map((t) => message(group, t)));
        const ids = stored.map((r) => r.id);
        // data and the two-byte sender HMAC of message()
        assert.deepEqual(await store.groupMessageSizes(group, ascending(3, ids[0])), [
          { id: ids[1]!, bytes: 4 },
          { id: ids[2]!, bytes: 5 },
          { id: ids[3]!, bytes: 6 },
        ]);
        assert.deepEqual((await store.groupMessageSizes(group, descending(2))).map((r) => r.id), [ids[3], ids[2]]);
        const bounded = await store.queryGroupMessages(group, { ...ascending(), until: ids[1] });
        assert.deepEqual(bounded.map((r) => decodeText(r.data)), ["a", "bb"]);
        const boundedDown = await store.queryGroupMessages(group, { ...descending(), until: ids[2] });
        assert.deepEqual(boundedDown.map((r) => decodeText(r.data)), ["dddd", "ccc"]);

        const key = randomBytes(32);
        const [welcome] = await store.appendWelcomes([
          { kind: "v1", installationKey: key, data: new Uint8Array(10), hpkePublicKey: new Uint8Array(32), wrapperAlgorithm: 1, welcomeMetadata: new Uint8Array(3) },
        ]);
        assert.deepEqual(await store.welcomeSizes(key, ascending()), [{ id: welcome!.id, bytes: 45 }]);
      });

      it("keeps every field and the group apart from other groups", async () => {
        const group = randomBytes(16);
        const other = randomBytes(16);
        await store.appendGroupMessages([message(other, "elsewhere")]);
        const [record] = await store.appendGroupMessages([message(group, "commit", true)]);
        assert.ok(record);
        assert.deepEqual(record.groupId, new Uint8Array(group));
        assert.deepEqual(record.senderHmac, new Uint8Array([1, 2]));
        assert.equal(record.isCommit, true);
        assert.equal(record.shouldPush, false);
        assert.ok(record.createdNs > 1_600_000_000_000_000_000n, "created_ns is in nanoseconds");
        const inGroup = await store.queryGroupMessages(group, ascending());
        assert.deepEqual(inGroup, [record]);
      });

      it("stores a re-sent message once and returns the first record", async () => {
        const group = randomBytes(16);
        const [first] = await store.appendGroupMessages([message(group, "same")]);
        const [again, fresh] = await store.appendGroupMessages([message(group, "same"), message(group, "new")]);
        assert.equal(again?.id, first?.id);
        assert.ok((fresh?.id ?? 0n) > (first?.id ?? 0n));
        assert.equal((await store.queryGroupMessages(group, ascending())).length, 2);
      });

      it("answers the newest message of each group in request order", async () => {
        const [g1, g2, empty] = [randomBytes(16), randomBytes(16), randomBytes(16)];
        await store.appendGroupMessages([message(g1, "1a"), message(g2, "2a"), message(g1, "1b")]);
        const newest = await store.newestGroupMessages([g2, empty, g1]);
        assert.deepEqual(newest.map((r) => (r ? decodeText(r.data) : undefined)), ["2a", undefined, "1b"]);
      });

      it("gives every topic strictly increasing ids under concurrent writers", async () => {
        const groups = Array.from({ length: 4 }, () => randomBytes(16));
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.appendGroupMessages([message(groups[i % groups.length] ?? groups[0]!, `m${i}`)]),
          ),
        );
        for (const group of groups) {
          const records = await store.queryGroupMessages(group, ascending());
          assert.equal(records.length, 10);
          for (let i = 1; i < records.length; i++) assert.ok(records[i]!.id > records[i - 1]!.id);
        }
      });
    });

    describe("welcomes", () => {
      it("pages by installation key, deduplicates, and keeps both kinds", async () => {
        const key = randomBytes(32);
        const v1 = {
          kind: "v1" as const,
          installationKey: key,
          data: randomBytes(40),
          hpkePublicKey: randomBytes(32),
          wrapperAlgorithm: 1,
          welcomeMetadata: randomBytes(9),
        };
        const pointer = { ...v1, kind: "pointer" as const, data: randomBytes(20), wrapperAlgorithm: 2, welcomeMetadata: new Uint8Array() };
        const [a, b, again] = await store.appendWelcomes([v1, pointer, v1]);
        assert.equal(again?.id, a?.id);
        const found = await store.queryWelcomes(key, ascending());
        assert.deepEqual(found, [a, b]);
        assert.equal(found[1]?.kind, "pointer");
        assert.deepEqual(found[0]?.welcomeMetadata, new Uint8Array(v1.welcomeMetadata));
        assert.deepEqual(await store.queryWelcomes(key, descending(1)), [b]);
        assert.deepEqual(await store.queryWelcomes(randomBytes(32), ascending()), []);
      });
    });

    describe("key packages", () => {
      it("keeps the latest per installation and answers in request order", async () => {
        const [k1, k2, missing] = [randomBytes(32), randomBytes(32), randomBytes(32)];
        await store.putKeyPackage(k1, new Uint8Array([1]), 10n);
        await store.putKeyPackage(k2, new Uint8Array([2]), 10n);
        await store.putKeyPackage(k1, new Uint8Array([3]), 20n);
        const found = await store.fetchKeyPackages([k2, missing, k1]);
        assert.deepEqual(found, [new Uint8Array([2]), undefined, new Uint8Array([3])]);
      });

      it("never replaces a key package with one that starts earlier", async () => {
        const key = randomBytes(32);
        assert.equal(await store.putKeyPackage(key, new Uint8Array([1]), 100n), true);
        assert.equal(await store.putKeyPackage(key, new Uint8Array([0]), 99n), false, "an older one is refused");
        assert.deepEqual(await store.fetchKeyPackages([key]), [new Uint8Array([1])]);
        assert.equal(await store.putKeyPackage(key, new Uint8Array([1]), 100n), true, "the same again is taken");
        assert.equal(await store.putKeyPackage(key, new Uint8Array([2]), 100n), true, "one from the same second is taken");
        assert.equal(await store.putKeyPackage(key, new Uint8Array([3]), 101n), true);
        assert.deepEqual(await store.fetchKeyPackages([key]), [new Uint8Array([3])]);
      });
    });

    describe("identity updates", () => {
      const inbox = () => randomBytes(32).toString("hex");
      const address = () => `0x${randomBytes(20).toString("hex")}`;

      it("appends in order, answers after a sequence id, and refuses a stale writer", async () => {
        const id = inbox();
        const first = await store.appendIdentityUpdate({
          inboxId: id, update: new Uint8Array([1]), expectedLastSequenceId: 0n, maxUpdates: 256,
          addressesAdded: [], addressesRemoved: [],
        });
        assert.equal(first.status, "appended");
        if (first.status !== "appended") return;
        const stale = await store.appendIdentityUpdate({
          inboxId: id, update: new Uint8Array([2]), expectedLastSequenceId: 0n, maxUpdates: 256,
          addressesAdded: [], addressesRemoved: [],
        });
        assert.equal(stale.status, "conflict");
        const second = await store.appendIdentityUpdate({
          inboxId: id, update: new Uint8Array([2]), expectedLastSequenceId: first.record.sequenceId, maxUpdates: 256,
          addressesAdded: [], addressesRemoved: [],
        });
        assert.equal(second.status, "appended");
        const log = await store.identityUpdates(id, 0n);
        assert.deepEqual(log.map((r) => [...r.update]), [[1], [2]]);
        assert.deepEqual((await store.identityUpdates(id, first.record.sequenceId)).map((r) => [...r.update]), [[2]]);
        assert.deepEqual(await store.identityUpdates(inbox(), 0n), []);
      });

      it("refuses an update past the inbox's limit", async () => {
        const id = inbox();
        let last = 0n;
        for (let i = 0; i < 3; i++) {
          const result = await store.appendIdentityUpdate({
            inboxId: id, update: new Uint8Array([i]), expectedLastSequenceId: last, maxUpdates: 3,
            addressesAdded: [], addressesRemoved: [],
          });
          assert.equal(result.status, "appended");
          if (result.status === "appended") last = result.record.sequenceId;
        }
        const full = await store.appendIdentityUpdate({
          inboxId: id, update: new Uint8Array([9]), expectedLastSequenceId: last, maxUpdates: 3,
          addressesAdded: [], addressesRemoved: [],
        });
        assert.equal(full.status, "full");
      });

      it("maps an address to its latest unrevoked inbox", async () => {
        const [a, b] = [inbox(), inbox()];
        const wallet = address();
        const added = await store.appendIdentityUpdate({
          inboxId: a, update: new Uint8Array([1]), expectedLastSequenceId: 0n, maxUpdates: 256,
          addressesAdded: [wallet], addressesRemoved: [],
        });
        assert.deepEqual(await store.inboxIdsOf([wallet, address()]), [a, undefined]);
        assert.equal(added.status, "appended");
        if (added.status !== "appended") return;
        await store.appendIdentityUpdate({
          inboxId: a, update: new Uint8Array([2]), expectedLastSequenceId: added.record.sequenceId, maxUpdates: 256,
          addressesAdded: [], addressesRemoved: [wallet],
        });
        assert.deepEqual(await store.inboxIdsOf([wallet]), [undefined]);
        await store.appendIdentityUpdate({
          inboxId: b, update: new Uint8Array([1]), expectedLastSequenceId: 0n, maxUpdates: 256,
          addressesAdded: [wallet], addressesRemoved: [],
        });
        assert.deepEqual(await store.inboxIdsOf([wallet]), [b]);
      });
    });

    describe("commit log", () => {
      it("appends without deduplication and pages ascending", async () => {
        const group = randomBytes(16);
        const entry = { groupId: group, entry: new Uint8Array([7]), signature: new Uint8Array([8]) };
        const [a, b] = await store.appendCommitLog([entry, entry]);
        assert.ok(a && b && b.id > a.id);
        assert.deepEqual(await store.queryCommitLog(group, ascending()), [a, b]);
        assert.deepEqual(await store.queryCommitLog(group, ascending(10, a.id)), [b]);
      });
    });

    describe("timestamps", () => {
      const strictlyIncreasing = (records: readonly { id: bigint; createdNs: bigint }[]) => {
        for (let i = 1; i < records.length; i++) {
          assert.ok(records[i]!.id > records[i - 1]!.id);
          assert.ok(records[i]!.createdNs > records[i - 1]!.createdNs, `created_ns of record ${i} is past the one before`);
        }
      };
      const welcome = (installationKey: Uint8Array) => ({
        kind: "v1" as const,
        installationKey,
        data: randomBytes(40),
        hpkePublicKey: randomBytes(32),
        wrapperAlgorithm: 1,
        welcomeMetadata: new Uint8Array(),
      });

      it("are unique and increasing per topic in one instant, after the clock goes back, and across a restart", async () => {
        // The clock stands still (every write in one instant), then goes back an hour.
        const instant = 1_800_000_000_000_000_000n;
        let now = instant;
        await store.close();
        store = await factory.open({ nowNs: () => now });
        const group = randomBytes(16);
        const key = randomBytes(32);
        await Promise.all([
          ...Array.from({ length: 30 }, (_, i) => store.appendGroupMessages([message(group, `single ${i}`)])),
          store.appendGroupMessages(Array.from({ length: 10 }, (_, i) => message(group, `batch ${i}`))),
          ...Array.from({ length: 10 }, () => store.appendWelcomes([welcome(key)])),
        ]);
        now = instant - 3_600_000_000_000n;
        await store.appendGroupMessages([message(group, "clock set back")]);
        await store.appendWelcomes([welcome(key)]);
        await store.close();
        store = await factory.open({ nowNs: () => now });
        await store.appendGroupMessages([message(group, "after a restart")]);
        await store.appendWelcomes([welcome(key)]);

        const messages = await store.queryGroupMessages(group, ascending());
        assert.equal(messages.length, 42);
        assert.equal(messages[0]!.createdNs, instant, "the clock's value is used when it is ahead");
        strictlyIncreasing(messages);
        const welcomes = await store.queryWelcomes(key, ascending());
        assert.equal(welcomes.length, 12);
        strictlyIncreasing(welcomes);

        // Another topic is not held back by this one's high-water mark.
        const [elsewhere] = await store.appendGroupMessages([message(randomBytes(16), "elsewhere")]);
        assert.equal(elsewhere?.createdNs, now);
        await store.close();
        store = await factory.open();
      });
    });

    describe("durability", () => {
      it("still has every acknowledged write after a restart", async () => {
        const group = randomBytes(16);
        const key = randomBytes(32);
        const writes = await Promise.all([
          store.appendGroupMessages([message(group, "kept")]),
          store.putKeyPackage(key, new Uint8Array([5]), 1n),
        ]);
        assert.equal(writes[0].length, 1);
        await store.close();
        store = await factory.open();
        assert.deepEqual((await store.queryGroupMessages(group, ascending())).map((r) => decodeText(r.data)), ["kept"]);
        assert.deepEqual(await store.fetchKeyPackages([key]), [new Uint8Array([5])]);
      });
    });

    // Last: it expires what the suites above left in the store.
    describe("retention", () => {
      it("deletes records older than their cutoff, a bounded number per call, oldest first, and never reuses an id", async () => {
        const day = 86_400_000_000_000n;
        const t0 = 3_000_000_000_000_000_000n;
        let now = t0;
        await store.close();
        store = await factory.open({ nowNs: () => now });
        const expireAll = async (cutoff: ExpiryCutoff) => {
          while (Object.values(await store.deleteExpired(cutoff, 1000)).some((n) => n > 0));
        };
        // What the suites above wrote, all before t0, goes first.
        await expireAll({ groupMessagesBeforeNs: t0, welcomesBeforeNs: t0 });
        const group = randomBytes(16);
        const key = randomBytes(32);
        const welcome = () => ({ kind: "v1" as const, installationKey: key, data: randomBytes(40), hpkePublicKey: randomBytes(32), wrapperAlgorithm: 1, welcomeMetadata: new Uint8Array() });
        const old = await store.appendGroupMessages([message(group, "old 1"), message(group, "old commit", true)]);
        await store.appendCommitLog([{ groupId: group, entry: new Uint8Array([1]), signature: new Uint8Array([2]) }]);
        await store.appendWelcomes([welcome()]);
        now = t0 + 10n * day;
        const [recent] = await store.appendGroupMessages([message(group, "recent")]);
        await store.appendWelcomes([welcome()]);

        const cutoff = { groupMessagesBeforeNs: t0 + 5n * day, welcomesBeforeNs: t0 + 5n * day };
        const first = await store.deleteExpired(cutoff, 1);
        assert.deepEqual(first, { groupMessages: 1, commitLog: 1, welcomes: 1 }, "at most the limit of each kind");
        assert.deepEqual((await store.queryGroupMessages(group, ascending())).map((r) => decodeText(r.data)), ["old commit", "recent"], "oldest first");
        await expireAll(cutoff);

        assert.deepEqual((await store.queryGroupMessages(group, ascending())).map((r) => decodeText(r.data)), ["recent"]);
        assert.deepEqual((await store.queryGroupMessages(group, ascending(10, old[0]!.id))).map((r) => r.id), [recent!.id], "a cursor at a deleted id still pages on");
        assert.equal((await store.queryWelcomes(key, ascending())).length, 1);
        assert.deepEqual(await store.queryCommitLog(group, ascending()), []);

        // A cutoff left undefined keeps that kind; a new record follows the deleted ones.
        now = t0 + 20n * day;
        assert.deepEqual(await store.deleteExpired({ groupMessagesBeforeNs: t0 + 15n * day }, 1000), { groupMessages: 1, commitLog: 0, welcomes: 0 });
        assert.equal((await store.queryWelcomes(key, ascending())).length, 1);
        const [next] = await store.appendGroupMessages([message(group, "old 1")]);
        assert.ok(next!.id > recent!.id, "ids are never handed out again");
        assert.deepEqual((await store.queryGroupMessages(group, ascending())).map((r) => decodeText(r.data)), ["old 1"], "an expired message can be sent again");
        await store.close();
        store = await factory.open();
      });
    });
  });
}
