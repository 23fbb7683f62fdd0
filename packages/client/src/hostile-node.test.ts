// A node that fails what one input needs, never answers, or answers
// gigabytes costs a client a bounded number of attempts, one deadline and a
// bounded amount of memory, each with a typed error; the group and the
// user's other invitations go on.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
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
  // Async, as a node's answer: a throw before the call starts would leave Connect's deadline timer running.
  return (next) => async (request) => {
    if (request.method.name === "GetIdentityUpdates") {
      const asked = (request.message as identityApi.GetIdentityUpdatesRequest).requests;
      if (asked.some((r) => r.inboxId === target())) throw new ConnectError("rate limited", Code.ResourceExhausted);
    }
    return await next(request);
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
    const target: { inboxId?: string } = {};
    const refuse = refuseLookupsOf(() => target.inboxId);
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
    target.inboxId = eve.inboxId;
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

  it("a stranger's welcome whose lookups the node keeps refusing is refused after its attempts, and the next invitation is joined", async () => {
    const target: { inboxId?: string } = {};
    const clock = testClock();
    const log = recorder();
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      interceptors: [refuseLookupsOf(() => target.inboxId)],
      nowNs: clock.nowNs,
      logger: log,
    });
    const stranger = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    target.inboxId = stranger.inboxId;
    const fromStranger = await stranger.conversations.createGroup([bob.inboxId]);
    const fromAlice = await alice.conversations.createGroup([bob.inboxId]);
    for (const spacing of SPACINGS_S) {
      await assert.rejects(bob.conversations.sync(), failsWith("client.node_refused"));
      assert.equal(bob.conversations.getConversationById(fromAlice.id), undefined, "the invitation after it waits");
      clock.advanceSeconds(spacing);
    }
    await bob.conversations.sync();
    assert.ok(log.entries.some((e) => e.fields["code"] === "refused.retries_exhausted"), "the stranger's welcome refused and logged");
    assert.equal(bob.conversations.getConversationById(fromStranger.id), undefined);
    const joined = bob.conversations.getConversationById(fromAlice.id);
    assert.ok(joined instanceof Group, "Alice's invitation joined");
    await fromAlice.send("welcome, Bob");
    await joined.sync();
    assert.ok((await texts(joined)).includes("welcome, Bob"));
    for (const c of [bob, stranger, alice]) c.close();
  });

  it("a node that never answers a query: client.timeout at the deadline, and the next sync goes on", { timeout: 30_000 }, async () => {
    const stall = { on: false };
    // Holds the call until the client gives up on it (its deadline aborts the signal).
    const staller: Interceptor = (next) => (request) => {
      if (!stall.on || request.method.name !== "QueryGroupMessages") return next(request);
      return new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason as Error), { once: true }));
    };
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), {
      ...node.clientOptions,
      interceptors: [staller],
      callTimeouts: { readMs: 300 },
    });
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    stall.on = true;
    await assert.rejects(group.sync(), failsWith("client.timeout"));
    await assert.rejects(alice.conversations.syncAll(), failsWith("client.timeout"));
    stall.on = false;
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs instanceof Group);
    await bobs.send("hello");
    await group.sync();
    assert.ok((await texts(group)).includes("hello"));
    for (const c of [alice, bob]) c.close();
  });

  it("a sync takes one page at a time: what the pages before a failing one held is kept, for group messages and welcomes", async () => {
    // Room for two members' identity logs, and for two or three of the messages below per page.
    const small = createInProcessTestNode({ requestLimits: { maxAnswerBytes: 1500 } });
    try {
      const failing = { on: false, queries: 0, method: "QueryGroupMessages" };
      const failSecondPage: Interceptor = (next) => async (request) => {
        if (failing.on && request.method.name === failing.method && ++failing.queries >= 2) {
          throw new ConnectError("connection lost", Code.Unavailable);
        }
        return await next(request);
      };
      const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), small.clientOptions);
      const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), { ...small.clientOptions, interceptors: [failSecondPage] });
      const group = await alice.conversations.createGroup([bob.inboxId]);
      await bob.conversations.sync();
      const bobs = bob.conversations.getConversationById(group.id);
      assert.ok(bobs instanceof Group);
      await bobs.sync();
      const sent = Array.from({ length: 6 }, (_, i) => `message ${i} ${"x".repeat(300)}`);
      for (const text of sent) await group.send(text);
      failing.on = true;
      await assert.rejects(bobs.sync(), failsWith("client.network"));
      const kept = await texts(bobs);
      assert.ok(kept.length > 0 && kept.length < sent.length, `the first page's messages are kept (${kept.length} of ${sent.length})`);
      assert.deepEqual(kept, sent.slice(0, kept.length));
      failing.on = false;
      await bobs.sync();
      assert.deepEqual(await texts(bobs), sent);

      // Welcomes too: each page holds one; the second page fails.
      const invited: Group[] = [];
      for (let i = 0; i < 3; i++) invited.push(await alice.conversations.createGroup([bob.inboxId]));
      const joined = () => invited.filter((g) => bob.conversations.getConversationById(g.id) !== undefined).length;
      failing.method = "QueryWelcomeMessages";
      failing.queries = 0;
      failing.on = true;
      await assert.rejects(bob.conversations.sync(), failsWith("client.network"));
      assert.ok(joined() > 0 && joined() < invited.length, `the first page's welcomes are joined (${joined()} of ${invited.length})`);
      failing.on = false;
      await bob.conversations.sync();
      assert.equal(joined(), invited.length);
      for (const c of [alice, bob]) c.close();
    } finally {
      await small.stop();
    }
  });
});

describe("@parley/client over HTTP/2 to a node whose answer never ends", () => {
  /** What the node sends before it gives up: without a limit the client would read all of it. */
  const SENT_AT_MOST = 3 * READ_MAX_BYTES;
  let server: Http2Server;
  let url: string;
  let written = 0;
  const sessions = new Set<ServerHttp2Session>();
  before(async () => {
    server = createServer();
    server.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
    });
    server.on("stream", (stream) => {
      stream.on("error", () => undefined);
      stream.respond({ ":status": 200, "content-type": "application/grpc+proto" });
      // One gRPC message that says it is 2 GiB long, then bytes until the client goes.
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(0x7fff_ffff, 1);
      stream.write(prefix);
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!stream.destroyed && !stream.closed && written < SENT_AT_MOST) {
          written += chunk.length;
          if (!stream.write(chunk)) {
            stream.once("drain", pump);
            return;
          }
        }
        if (!stream.destroyed && !stream.closed) stream.end();
      };
      pump();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    assert.ok(address !== null && typeof address === "object");
    url = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    // The client's connections stay open for its next calls: end them, or the server never closes.
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("a unary answer past the read limit is client.response_too_large, read no further than its length prefix", async () => {
    written = 0;
    const api = createApiClient({ apiUrl: url });
    await assert.rejects(
      call("QueryGroupMessages", () => api.mls.queryGroupMessages({ groupId: new Uint8Array([1]) })),
      failsWith("client.response_too_large"),
    );
    assert.ok(written < 8 * 1024 * 1024, `the node got to send ${written} bytes`);
  });

  it("a stream message past the read limit ends the stream with client.response_too_large", async () => {
    written = 0;
    const api = createApiClient({ apiUrl: url });
    const followed = { groupIdBytes: new Uint8Array([1]), cursor: 0n, sync: () => Promise.resolve(), messages: () => Promise.resolve([]) };
    await assert.rejects(pushNewMessages(api, [followed], () => undefined, new AbortController().signal), failsWith("client.response_too_large"));
    assert.ok(written < 8 * 1024 * 1024, `the node got to send ${written} bytes`);
  });
});
