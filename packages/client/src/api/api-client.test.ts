// The client speaks to a node in memory (ClientOptions.httpClient) exactly as
// to one over HTTP/2: the same protocol, headers and interceptors; only the
// HTTP underneath differs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningNode } from "@parley/node";
import { createInProcessTestNode, startTestNode, type InProcessTestNode } from "@parley/testkit";
import { create } from "@bufbuild/protobuf";
import { mlsApi } from "@parley/proto";
import { randomBytes } from "node:crypto";
import { createPrivateKeySigner } from "@parley/identity";
import { isClientError } from "../client-error.js";
import { Client, GroupMessageKind } from "../index.js";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createApiClient, groupMessagePages, nodeFailure, welcomePages, type ApiClientOptions } from "./api-client.js";

/** Takes every page of a paged query. */
async function drain(pages: AsyncIterable<unknown[]>): Promise<void> {
  for await (const _ of pages);
}

describe("@parley/client's transport, in memory and over HTTP/2", () => {
  let inProcess: InProcessTestNode;
  let listening: RunningNode;
  before(async () => {
    inProcess = createInProcessTestNode();
    listening = await startTestNode();
  });
  after(async () => {
    await inProcess.stop();
    await listening.stop();
  });

  /** One unary and one streaming call; what the interceptors saw of each. */
  async function calls(options: ApiClientOptions): Promise<{ path: string; stream: boolean; header: [string, string][] }[]> {
    const seen: { path: string; stream: boolean; header: [string, string][] }[] = [];
    const record: Interceptor = (next) => (request) => {
      seen.push({ path: new URL(request.url).pathname, stream: request.stream, header: [...request.header.entries()] });
      return next(request);
    };
    const api = createApiClient({ ...options, interceptors: [record] });
    assert.deepEqual((await api.mls.queryGroupMessages({ groupId: new Uint8Array([1]) })).messages, []);
    const installationKey = new Uint8Array(32).fill(3);
    await api.mls.sendWelcomeMessages({
      messages: [{ version: { case: "v1", value: { installationKey, data: new Uint8Array(8), hpkePublicKey: new Uint8Array(32) } } }],
    });
    for await (const welcome of api.mls.subscribeWelcomeMessages({ filters: [{ installationKey }] })) {
      assert.equal(welcome.version.case, "v1");
      break;
    }
    return seen;
  }

  it("sends the same gRPC calls through the same interceptors either way", async () => {
    const inMemory = await calls(inProcess.clientOptions);
    const overHttp2 = await calls({ apiUrl: listening.url });
    assert.deepEqual(inMemory, overHttp2);
    assert.deepEqual(
      inMemory.map((c) => [c.path, c.stream]),
      [
        ["/xmtp.mls.api.v1.MlsApi/QueryGroupMessages", false],
        ["/xmtp.mls.api.v1.MlsApi/SendWelcomeMessages", false],
        ["/xmtp.mls.api.v1.MlsApi/SubscribeWelcomeMessages", true],
      ],
    );
    assert.equal(new Map(inMemory[0]?.header).get("content-type"), "application/grpc+proto");
  });
});

describe("@parley/client's paging against a node that does not move on", () => {
  let node: InProcessTestNode;
  before(() => {
    node = createInProcessTestNode();
  });
  after(() => node.stop());

  it("a full page whose ids do not pass the cursor is client.bad_response, not a loop", async () => {
    // The node answers every query with the same full page.
    const stuck: Interceptor = (next) => async (request) => {
      const response = await next(request);
      if (!response.stream && request.method.name === "QueryGroupMessages") {
        const one = create(mlsApi.GroupMessageSchema, {
          version: { case: "v1", value: { id: 7n, createdNs: 1n, groupId: new Uint8Array([1]), data: new Uint8Array([0]) } },
        });
        (response.message as unknown as { messages: unknown[] }).messages = Array.from({ length: 100 }, () => one);
      }
      if (!response.stream && request.method.name === "QueryWelcomeMessages") {
        const one = create(mlsApi.WelcomeMessageSchema, { version: { case: "v1", value: { id: 0n, createdNs: 1n } } });
        (response.message as unknown as { messages: unknown[] }).messages = Array.from({ length: 100 }, () => one);
      }
      return response;
    };
    const api = createApiClient({ ...node.clientOptions, interceptors: [stuck] });
    await assert.rejects(drain(groupMessagePages(api, new Uint8Array([1]), 7n)), (e) => isClientError(e) && e.code === "client.bad_response");
    await assert.rejects(drain(welcomePages(api, new Uint8Array(32), 0n)), (e) => isClientError(e) && e.code === "client.bad_response");
  });
});

describe("@parley/client's paging against a node that cuts pages by bytes", () => {
  let node: InProcessTestNode;
  before(() => {
    // Room for both members' identity logs, and for two or three of the messages below per page.
    node = createInProcessTestNode({ requestLimits: { maxAnswerBytes: 1500 } });
  });
  after(() => node.stop());

  it("one sync reads every message, across pages the node cut short", async () => {
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    const texts = ["one", "two", "three", "four", "five", "six"].map((t) => t.padEnd(400, "."));
    for (const text of texts) await group.send(text);
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs);
    await bobs.sync();
    assert.deepEqual((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), texts);
    alice.close();
    bob.close();
  });
});

describe("@parley/client's identity lookups against a node whose answers hold one inbox's log", () => {
  let node: InProcessTestNode;
  before(() => {
    // One registration (about 420 bytes) fits, two do not; a key package fits.
    node = createInProcessTestNode({ requestLimits: { maxAnswerBytes: 600 } });
  });
  after(() => node.stop());

  it("a lookup the node finds too large is split until each page fits, and the group is made and read", async () => {
    const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), node.clientOptions);
    const group = await alice.conversations.createGroup([bob.inboxId]);
    await group.send("hello");
    await bob.conversations.sync();
    const bobs = bob.conversations.getConversationById(group.id);
    assert.ok(bobs);
    await bobs.sync();
    assert.deepEqual((await bobs.messages({ kind: GroupMessageKind.Application })).map((m) => m.content), ["hello"]);
    alice.close();
    bob.close();
  });
});

describe("nodeFailure: what a failed call means", () => {
  const table: [string, unknown, string][] = [
    ["INVALID_ARGUMENT", new ConnectError("bad", Code.InvalidArgument), "client.node_refused"],
    ["RESOURCE_EXHAUSTED (a rate limit, an answer limit)", new ConnectError("slow down", Code.ResourceExhausted), "client.node_refused"],
    ["FAILED_PRECONDITION", new ConnectError("stale", Code.FailedPrecondition), "client.node_refused"],
    ["NOT_FOUND", new ConnectError("none", Code.NotFound), "client.node_refused"],
    ["Connect's own read limit", new ConnectError("message size 2147483647 is larger than configured readMaxBytes 41943040", Code.ResourceExhausted), "client.response_too_large"],
    ["a deadline", new ConnectError("the operation timed out", Code.DeadlineExceeded), "client.timeout"],
    ["UNAVAILABLE", new ConnectError("down", Code.Unavailable), "client.network"],
    ["INTERNAL", new ConnectError("oops", Code.Internal), "client.network"],
    ["a socket error", new Error("ECONNRESET"), "client.network"],
  ];
  for (const [what, error, code] of table) {
    it(`${what}: ${code}, with the cause kept`, () => {
      const failure = nodeFailure("Call", error);
      assert.equal(failure.code, code);
      assert.equal(failure.cause, error);
    });
  }
});
