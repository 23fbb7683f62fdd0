// The verified-log cache against a node in this process: a later fetch asks
// only for what follows the last entry seen, and the history it gives is the
// whole log's (a new installation, then its revocation, both seen).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient } from "../api/api-client.js";
import { Client } from "../index.js";
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
});
