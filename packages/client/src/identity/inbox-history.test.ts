// The verified-log cache against a node in this process: a later fetch asks
// only for what follows the last entry seen, and the history it gives is the
// whole log's (a new installation, then its revocation, both seen); with a
// store the logs outlive the cache, and a stored log that does not verify
// is fetched again whole.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient } from "../api/api-client.js";
import { Client } from "../index.js";
import { LocalStore } from "../store/local-store.js";
import { fetchInboxHistories, installationsOf, InboxLogCache } from "./inbox-history.js";

describe("@parley/client: verified identity logs, kept and extended", { timeout: 60_000 }, () => {
  let node: InProcessTestNode;

  before(() => {
    node = createInProcessTestNode();
  });

  after(async () => {
    await node.stop();
  });

  it("fetches only what follows the last entry seen, and the history still covers the whole log", async () => {
    const asked: bigint[] = [];
    const record: Interceptor = (next) => async (req) => {
      if (req.method.name === "GetIdentityUpdates") {
        const message = req.message as { requests?: { sequenceId: bigint }[] };
        asked.push(...(message.requests ?? []).map((r) => r.sequenceId));
      }
      return next(req);
    };
    const api = createApiClient({ ...node.clientOptions, interceptors: [record] });
    const cache = new InboxLogCache();
    const signer = createPrivateKeySigner(randomBytes(32));
    const first = await Client.create(signer, node.clientOptions);

    const once = (await fetchInboxHistories(api, [first.inboxId], cache)).get(first.inboxId);
    assert.deepEqual([...installationsOf(once?.latest)], [first.installationId]);
    assert.equal(asked.at(-1), 0n, "the first fetch asks for the whole log");
    const firstSeq = cache.entries(first.inboxId).at(-1)?.sequenceId;
    assert.ok(firstSeq !== undefined && firstSeq > 0n);

    const second = await Client.create(signer, node.clientOptions);
    const twice = (await fetchInboxHistories(api, [first.inboxId], cache)).get(first.inboxId);
    assert.equal(asked.at(-1), firstSeq, "the second asks only for what follows");
    assert.deepEqual([...installationsOf(twice?.latest)].sort(), [first.installationId, second.installationId].sort());
    assert.deepEqual([...installationsOf(twice?.at(firstSeq))], [first.installationId], "the earlier state is still there");

    await first.revokeInstallations([second.installationIdBytes]);
    const thrice = (await fetchInboxHistories(api, [first.inboxId], cache)).get(first.inboxId);
    assert.deepEqual([...installationsOf(thrice?.latest)], [first.installationId], "the revocation is seen");
    assert.ok(thrice?.everHad(second.installationIdBytes), "and the revoked installation was once there");

    const fresh = (await fetchInboxHistories(api, [first.inboxId])).get(first.inboxId);
    assert.deepEqual([...installationsOf(fresh?.latest)], [...installationsOf(thrice?.latest)], "the same as a fetch of the whole log");
    first.close();
    second.close();
  });

  it("a stored log is read back by a new cache, which asks only for what follows; one that no longer verifies is fetched again whole", async () => {
    const asked: bigint[] = [];
    const record: Interceptor = (next) => async (req) => {
      if (req.method.name === "GetIdentityUpdates") {
        const message = req.message as { requests?: { sequenceId: bigint }[] };
        asked.push(...(message.requests ?? []).map((r) => r.sequenceId));
      }
      return next(req);
    };
    const api = createApiClient({ ...node.clientOptions, interceptors: [record] });
    const signer = createPrivateKeySigner(randomBytes(32));
    const first = await Client.create(signer, node.clientOptions);
    const second = await Client.create(signer, node.clientOptions);
    await first.revokeInstallations([second.installationIdBytes]);
    const store = new LocalStore(":memory:");
    try {
      await fetchInboxHistories(api, [first.inboxId], new InboxLogCache(store.identityLog));
      const stored = store.identityLog.identityUpdates(first.inboxId);
      assert.equal(stored.length, 3, "registration, the second installation, the revocation");
      const last = stored.at(-1)?.sequenceId;

      const again = (await fetchInboxHistories(api, [first.inboxId], new InboxLogCache(store.identityLog))).get(first.inboxId);
      assert.equal(asked.at(-1), last, "a new cache asks only for what follows the stored log");
      assert.deepEqual([...installationsOf(again?.latest)], [first.installationId], "the revocation read back");
      assert.ok(again?.everHad(second.installationIdBytes));

      // One byte of the stored revocation changed: it no longer verifies.
      const damaged = stored.map((e, i) => (i === 2 ? { ...e, payload: e.payload.map((b, j) => (j === e.payload.length - 1 ? b ^ 1 : b)) } : e));
      store.identityLog.deleteIdentityUpdates(first.inboxId);
      store.identityLog.appendIdentityUpdates(first.inboxId, damaged);
      const refetched = (await fetchInboxHistories(api, [first.inboxId], new InboxLogCache(store.identityLog))).get(first.inboxId);
      assert.equal(asked.at(-1), 0n, "the whole log asked for again");
      assert.deepEqual([...installationsOf(refetched?.latest)], [first.installationId]);
      assert.deepEqual(store.identityLog.identityUpdates(first.inboxId), stored, "and stored again as the node serves it");
    } finally {
      store.close();
      first.close();
      second.close();
    }
  });
});
