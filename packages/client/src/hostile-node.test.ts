// A node that fails what one input needs, never answers, or answers
// gigabytes costs a client a bounded number of attempts, one deadline and a
// bounded amount of memory, each with a typed error; the group and the
// user's other invitations go on.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Http2Server } from "node:http2";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createPrivateKeySigner } from "@parley/identity";
import type { identityApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { call, createApiClient, READ_MAX_BYTES } from "./api/api-client.js";
import { recorder, refusedAt, testClock } from "./client-fixtures.test-util.js";
import { Client, Group, GroupMessageKind, isClientError, MAX_INPUT_ATTEMPTS, type ClientErrorCode } from "./index.js";
import { pushNewMessages } from "./streams/new-messages.js";

const failsWith = (code: ClientErrorCode) => (e: unknown) => isClientError(e) && e.code === code;

/** A node that answers RESOURCE_EXHAUSTED (as our node's rate limit and answer limit do) to any lookup of `target()`'s log. */
function refuseLookupsOf(target: () => string | undefined): Interceptor {
  return (next) => (request) => {
    if (request.method.name === "GetIdentityUpdates") {
      const asked = (request.message as identityApi.GetIdentityUpdatesRequest).requests;
      if (asked.some((r) => r.inboxId === target())) throw new ConnectError("rate limited", Code.ResourceExhausted);
    }
    return next(request);
  };
}

/**
 * The waits between counted attempts (incoming-failure.ts): 1, 2, 4, 8 and
 * 16 minutes, a second more each; the sixth attempt gives up.
 */
const SPACINGS_S = [61, 121, 241, 481, 961];

const texts = async (c: { messages(o: { kind: GroupMessageKind }): Promise<{ content: unknown }[]> }) =>
  (await c.messages({ kind: GroupMessageKind.Application })).map((m) => m.content);

describe("@parley/client against a node that fails, stalls or floods it", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-hostile-node-"));
  let node: InProcessTestNode;
  before(() => {
    node = createInProcessTestNode();
  });
  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a commit whose lookups the node keeps refusing is retried a bounded number of times, spaced, across a restart, then refused: the group goes on", async () => {
    assert.equal(MAX_INPUT_ATTEMPTS, SPACINGS_S.length + 1);
    let target: string | undefined;
    const refuse = refuseLookupsOf(() => target);
    const clock = testClock();
    const aliceLog = recorder();
    const bobLog = recorder();
    const bobSigner = createPrivateKeySigner(randomBytes(32));
    const bobDb = join(dir, "bob.db");
    const options = { ...node.clientOptions, interceptors: [refuse], nowNs: clock.nowNs };
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...options, logger: aliceLog });
    let bob = await Client.create(bobSigner, { ...options, dbPath: bobDb, logger: bobLog });
    const mallory = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const eve = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId, mallory.inboxId]);
    await bob.conversations.sync();
    await mallory.conversations.sync();
    const bobsGroup = (client: Client) => {
      const g = client.conversations.getConversationById(group.id);
      assert.ok(g instanceof Group);
      return g;
    };
    await bobsGroup(bob).sync();
    const mallorys = mallory.conversations.getConversationById(group.id);
    assert.ok(mallorys instanceof Group);
    await mallorys.sync();

    // Mallory adds Eve, whose log the node now refuses to Alice and Bob.
    target = eve.inboxId;
    await mallorys.addMembers([eve.inboxId]);
    const commitCursor = BigInt((await mallorys.debugInfo()).cursor[0]?.sequenceId ?? 0);

    for (const [i, spacing] of SPACINGS_S.entries()) {
      await assert.rejects(group.sync(), failsWith("client.node_refused"));
      await assert.rejects(bobsGroup(bob).sync(), failsWith("client.node_refused"));
      if (i === 0) {
        // A burst of syncs (a stream's wake-ups, an app's loop) spends no attempt.
        for (let burst = 0; burst < 10; burst++) await assert.rejects(bobsGroup(bob).sync(), failsWith("client.node_refused"));
      }
      if (i === 2) {
        // The count is in the store: a restart does not start it again.
        bob.close();
        bob = await Client.create(bobSigner, { ...options, dbPath: bobDb, logger: bobLog });
      }
      clock.advanceSeconds(spacing);
    }
    await group.sync();
    await bobsGroup(bob).sync();
    refusedAt(aliceLog, "refused.retries_exhausted", commitCursor);
    refusedAt(bobLog, "refused.retries_exhausted", commitCursor);

    // Both stay on the epoch before the commit, and talk.
    await group.send("after the refused commit");
    await bobsGroup(bob).sync();
    assert.ok((await texts(bobsGroup(bob))).includes("after the refused commit"));
    await bobsGroup(bob).send("still here");
    await group.sync();
    assert.ok((await texts(group)).includes("still here"));
    for (const c of [alice, bob, mallory, eve]) c.close();
  });
});
