// The XIP-83 Subscribe over gRPC, on a node in this process: waves of
// history tagged with their mutate_id, TopicsLive and CatchupComplete, then
// live frames; ping and pong; removes; a bounded history-only sync; refusals;
// and, on the stream itself, the bound on requests waiting to be served.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { mlsApi } from "@parley/proto";
import { createInProcessTestNode, mlsSamples, type InProcessTestNode, type MlsSamples } from "@parley/testkit";
import { codeOf } from "../grpc-code.test-util.js";
import { NodeError } from "../node-error.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { defaultStreamLimits } from "../streams/backlog.js";
import { Notifier } from "../streams/notifier.js";
import { defaultRequestLimits } from "./limits.js";
import { subscribeStream } from "./subscribe-stream.js";

type Request = MessageInitShape<typeof mlsApi.SubscribeRequestSchema>;

/** A request stream the test writes to, and the response stream read frame by frame. */
function open(mls: Client<typeof mlsApi.MlsApi>) {
  const queue: mlsApi.SubscribeRequest[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  async function* requests() {
    for (;;) {
      const next = queue.shift();
      if (next) yield next;
      else if (closed) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const responses = mls.subscribe(requests())[Symbol.asyncIterator]();
  return {
    send(request: Request) {
      queue.push(create(mlsApi.SubscribeRequestSchema, request));
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    async next(): Promise<mlsApi.SubscribeResponse_V1["response"] | undefined> {
      const result = await responses.next();
      if (result.done) return undefined;
      return result.value.version.case === "v1" ? result.value.version.value.response : undefined;
    },
    stop: () => responses.return?.(),
  };
}

const mutate = (value: MessageInitShape<typeof mlsApi.SubscribeRequest_V1_MutateSchema>): Request => ({
  version: { case: "v1", value: { request: { case: "mutate", value } } },
});
const groupTopic = (groupId: Uint8Array) => new Uint8Array([0, ...groupId]);
const v1 = (data: Uint8Array) => ({ version: { case: "v1" as const, value: { data } } });
const texts = (frame: mlsApi.SubscribeResponse_V1["response"] | undefined) =>
  frame?.case === "messages" ? frame.value.groupMessages.map((m) => m.version.value?.id) : undefined;

describe("Subscribe (XIP-83)", () => {
  let node: InProcessTestNode;
  let mls: Client<typeof mlsApi.MlsApi>;
  let a: MlsSamples;
  let b: MlsSamples;

  before(async () => {
    [a, b] = await Promise.all([mlsSamples(4), mlsSamples(2)]);
    node = createInProcessTestNode();
    mls = createClient(mlsApi.MlsApi, node.transport);
    await mls.sendGroupMessages({ messages: a.applicationMessages.slice(0, 3).map(v1) });
  });
  after(() => node.stop());

  it("sends a wave of history, then live frames, answers pings, and honours removes", async () => {
    const history = (await mls.queryGroupMessages({ groupId: a.groupId, pagingInfo: { direction: mlsApi.SortDirection.ASCENDING } })).messages.map(
      (m) => m.version.value!.id,
    );
    const stream = open(mls);
    try {
      assert.equal((await stream.next())?.case, "started");
      stream.send(mutate({ adds: [{ topic: groupTopic(a.groupId), idCursor: history[0]! }], mutateId: 7n }));
      const wave = await stream.next();
      assert.equal(wave?.case, "messages");
      assert.equal(wave.case === "messages" && wave.value.mutateId, 7n);
      assert.deepEqual(texts(wave), history.slice(1), "history after the cursor");
      const topicsLive = await stream.next();
      assert.equal(topicsLive?.case, "topicsLive");
      assert.deepEqual(topicsLive.case === "topicsLive" && [...(topicsLive.value.topics[0] ?? [])], [...groupTopic(a.groupId)]);
      const done = await stream.next();
      assert.deepEqual(done?.case === "catchupComplete" && done.value.mutateId, 7n);

      await mls.sendGroupMessages({ messages: [v1(a.applicationMessages[3]!)] });
      const liveFrame = await stream.next();
      assert.equal(liveFrame?.case === "messages" && liveFrame.value.mutateId, 0n, "live frames carry mutate_id 0");
      assert.equal(texts(liveFrame)?.length, 1);

      stream.send({ version: { case: "v1", value: { request: { case: "ping", value: { nonce: 42n } } } } });
      const pong = await stream.next();
      assert.equal(pong?.case === "pong" && pong.value.nonce, 42n);

      // Removed: a's next message is not delivered; b's, added after, is the next frame.
      stream.send(mutate({ removes: [groupTopic(a.groupId)] }));
      assert.equal((await stream.next())?.case, "catchupComplete");
      await mls.sendGroupMessages({ messages: [v1(a.commit)] });
      stream.send(mutate({ adds: [{ topic: groupTopic(b.groupId) }], mutateId: 8n }));
      await mls.sendGroupMessages({ messages: [v1(b.applicationMessages[0]!)] });
      let next = await stream.next();
      while (next?.case === "topicsLive" || next?.case === "catchupComplete") next = await stream.next();
      assert.equal(next?.case, "messages");
      assert.deepEqual(
        next.case === "messages" && next.value.groupMessages.map((m) => Buffer.from(m.version.value!.groupId).toString("hex")),
        [Buffer.from(b.groupId).toString("hex")],
      );
    } finally {
      stream.close();
      await stream.stop();
    }
  });

  it("ends a history-only sync once the client half-closes", async () => {
    const stream = open(mls);
    stream.send(mutate({ adds: [{ topic: groupTopic(a.groupId) }], mutateId: 1n, historyOnly: true }));
    stream.close();
    const cases: string[] = [];
    for (let frame = await stream.next(); frame; frame = await stream.next()) cases.push(frame.case ?? "");
    assert.deepEqual(cases, ["started", "messages", "topicsLive", "catchupComplete"]);
  });

  it("refuses an unknown topic kind and adds without a mutate_id", async () => {
    for (const request of [
      mutate({ adds: [{ topic: new Uint8Array([9, 1, 2]) }], mutateId: 1n }),
      mutate({ adds: [{ topic: groupTopic(a.groupId) }] }),
    ]) {
      const stream = open(mls);
      stream.send(request);
      stream.close();
      const drained = (async () => {
        while (await stream.next());
      })();
      assert.equal(await codeOf(drained), Code.InvalidArgument);
    }
  });
});

describe("Subscribe's queue of requests", () => {
  it("cuts off a client whose waiting requests name more topic bytes than the limit, though fewer than the count limit", async () => {
    // The stream itself, with a real store: a client that does not read
    // leaves the node's loop waiting on its frame while requests keep
    // coming, which the transport makes a matter of timing; here the test
    // holds the loop still by not asking for the next frame.
    const store = new SqliteStore({ path: ":memory:" });
    const MUTATES = 20;
    let pulled = 0;
    let released!: () => void;
    const stoppedReading = new Promise<void>((resolve) => (released = resolve));
    async function* requests() {
      try {
        for (let i = 0; i < MUTATES; i++) {
          pulled += 1;
          // One topic of 100 KB: the group id is any length the client likes.
          const topic = new Uint8Array(100 * 1024);
          topic[1] = i;
          yield create(mlsApi.SubscribeRequestSchema, mutate({ adds: [{ topic }], mutateId: BigInt(i + 1), historyOnly: true }));
          await Promise.resolve();
        }
      } finally {
        released();
      }
    }
    const frames = subscribeStream(requests(), new AbortController().signal, {
      store,
      notifier: new Notifier(),
      limits: defaultRequestLimits,
      streamLimits: { ...defaultStreamLimits, maxQueuedRequestBytes: 300 * 1024 },
    });
    try {
      const first = await frames.next();
      assert.ok(first.done !== true);
      const started: mlsApi.SubscribeResponse = first.value;
      assert.equal(started.version.case === "v1" && started.version.value.response.case, "started");
      // The node reads requests while its loop waits on the client: until the queue is full.
      await stoppedReading;
      assert.ok(pulled < MUTATES, `${pulled} requests read`);
      await assert.rejects(
        (async () => {
          while (!(await frames.next()).done);
        })(),
        (error: unknown) => error instanceof NodeError && error.code === "node.rate_limited",
      );
    } finally {
      await frames.return(undefined);
      await store.close();
    }
  });
});
