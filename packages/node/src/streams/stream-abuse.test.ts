// Streams cannot exhaust the node, mounted against a real node over HTTP/2:
// a subscriber that stops reading is cut off with ABORTED once it falls past
// its backlog, while publishers are acknowledged and a normal subscriber
// gets everything; thousands of streams opened, stalled and reset leave no
// listener, call, connection or timer behind and the heap where it was; the
// bidirectional Subscribe serves a topic named twice once, charges each
// topic added, and cuts off a client whose requests outrun the node.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { runInNewContext } from "node:vm";
import v8 from "node:v8";
import { after, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { mlsApi } from "@parley/proto";
import {
  attackerClient,
  closed,
  eventually,
  grpcFrame,
  newGroup,
  normalClient,
  publish,
  rawCall,
  startAbuseNode,
  SUBSCRIBE_GROUP_MESSAGES,
  subscribeGroupBody,
} from "../abuse.test-util.js";
import type { RunningNode } from "../node.js";
import { codeOf } from "../grpc-code.test-util.js";

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("streams under abuse", { timeout: 120_000 }, () => {
  const nodes: RunningNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("cuts off a subscriber that stops reading with ABORTED once it is past its backlog; publishers and a normal subscriber are unaffected", async () => {
    const node = await startAbuseNode({ streamLimits: { maxBacklogRecords: 200 } });
    nodes.push(node);
    const group = newGroup();
    // The attacker stalls after some 80 KiB; the normal subscriber would have to lag 200 KiB.
    const TOTAL = 1000;

    // The attacker subscribes and never reads (until the end of the test).
    const slow = attackerClient(node).subscribeGroupMessages({ filters: [{ groupId: group }] })[Symbol.asyncIterator]();
    const first = slow.next();
    const normal = normalClient(node);
    const received: bigint[] = [];
    const reading = (async () => {
      for await (const message of normal.subscribeGroupMessages({ filters: [{ groupId: group }] })) {
        received.push(message.version.value?.id ?? 0n);
        if (received.length === TOTAL) return;
      }
    })();
    await eventually(() => node.load().calls === 2, 10_000, () => JSON.stringify(node.load()));

    // Every publish is acknowledged, however far behind the attacker is.
    await publish(normal, group, TOTAL, 1024, 20);
    await reading;
    assert.equal(received.length, TOTAL, "the normal subscriber got every message");
    assert.deepEqual([...received].sort((a, b) => (a < b ? -1 : 1)), received, "in order");

    // The attacker reads on: what was in flight, then ABORTED, well before all of it.
    let delivered = 0;
    let ended: unknown;
    try {
      for (let next = await first; !next.done; next = await slow.next()) {
        if (++delivered === TOTAL) break;
      }
    } catch (error) {
      ended = error;
    }
    assert.ok(ended !== undefined, `the slow subscriber was not cut off (${delivered} delivered)`);
    assert.equal(ConnectError.from(ended).code, Code.Aborted);
    assert.ok(delivered < TOTAL);
    await eventually(() => node.load().subscribedTopics === 0, 10_000, () => JSON.stringify(node.load()));
  });

  it("frees everything after thousands of streams opened, stalled and reset", async () => {
    // The stall deadline stays long: here the client resets, the node must not wait for a deadline.
    // The idle one is short, so the publisher's connection is gone too.
    const node = await startAbuseNode({ connectionLimits: { idleTimeoutMs: 300 } });
    nodes.push(node);
    const group = newGroup();
    // Enough history that every stream stalls on flow control before it is reset.
    await publish(normalClient(node), group, 8, 32 * 1024, 8);
    const subscribeBody = subscribeGroupBody(group);
    const bidiBody = grpcFrame(mlsApi.SubscribeRequestSchema, {
      version: {
        case: "v1",
        value: { request: { case: "mutate", value: { adds: [{ topic: new Uint8Array([0, ...group]) }], mutateId: 1n } } },
      },
    });

    const cycles = async (count: number) => {
      const PARALLEL = 50;
      for (let done = 0; done < count; done += PARALLEL) {
        const session = http2.connect(`http://127.0.0.1:${node.port}`);
        session.on("error", () => undefined);
        await Promise.all(
          Array.from({ length: PARALLEL }, async (_, i) => {
            const bidi = i % 2 === 1;
            const stream = bidi
              ? rawCall(session, "/xmtp.mls.api.v1.MlsApi/Subscribe", bidiBody, false)
              : rawCall(session, SUBSCRIBE_GROUP_MESSAGES, subscribeBody);
            stream.pause();
            await new Promise((resolve) => stream.once("response", resolve));
            // A first frame arrived, the rest waits on the window.
            await new Promise((resolve) => stream.once("readable", resolve));
            stream.close(http2.constants.NGHTTP2_CANCEL);
            await closed(stream);
          }),
        );
        session.destroy();
      }
    };
    const atRest = () => {
      const load = node.load();
      return load.connections === 0 && load.calls === 0 && load.addresses === 0 && load.timers === 0 && load.subscribedTopics === 0;
    };

    await cycles(200);
    await eventually(atRest, 10_000, () => JSON.stringify(node.load()));
    gc();
    const baseline = process.memoryUsage().heapUsed;

    // A normal client publishes and reads back all the while.
    let attacking = true;
    let served = 0;
    const normalWork = (async () => {
      const mls = normalClient(node);
      const own = newGroup();
      while (attacking) {
        await publish(mls, own, 1, 200);
        const page = await mls.queryGroupMessages({ groupId: own, pagingInfo: { limit: 1 } });
        assert.equal(page.messages.length, 1);
        served += 1;
      }
    })();
    try {
      await cycles(2000);
    } finally {
      attacking = false;
    }
    await normalWork;
    assert.ok(served > 0, "the normal client was served during the attack");
    await eventually(atRest, 20_000, () => JSON.stringify(node.load()));
    assert.deepEqual(node.load(), { connections: 0, calls: 0, addresses: 0, timers: 0, subscribedTopics: 0 });
    gc();
    const grown = process.memoryUsage().heapUsed - baseline;
    // Each cycle held ~100 KiB in flight; a leak of one stream in ten would show as tens of MiB.
    assert.ok(grown < 16 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
  });
});

type SubscribeInit = MessageInitShape<typeof mlsApi.SubscribeRequestSchema>;
const request = (init: SubscribeInit) => create(mlsApi.SubscribeRequestSchema, init);
const mutate = (value: MessageInitShape<typeof mlsApi.SubscribeRequest_V1_MutateSchema>) =>
  request({ version: { case: "v1", value: { request: { case: "mutate", value } } } });
const ping = (nonce: bigint) => request({ version: { case: "v1", value: { request: { case: "ping", value: { nonce } } } } });
const topicOf = (group: Uint8Array) => new Uint8Array([0, ...group]);
type Frame = mlsApi.SubscribeResponse_V1["response"];
const frameOf = (response: mlsApi.SubscribeResponse): Frame | undefined =>
  response.version.case === "v1" ? response.version.value.response : undefined;

/** Requests the test writes to while the stream is open. */
function requestQueue() {
  const queue: mlsApi.SubscribeRequest[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(...requests: mlsApi.SubscribeRequest[]) {
      queue.push(...requests);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *requests() {
      for (;;) {
        const next = queue.shift();
        if (next) yield next;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

describe("the bidirectional Subscribe under abuse", { timeout: 60_000 }, () => {
  const nodes: RunningNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("serves a topic named three times in one Mutate once: each record once, history and live", async () => {
    const node = await startAbuseNode();
    nodes.push(node);
    const mls = normalClient(node);
    const group = newGroup();
    await publish(mls, group, 5, 100);
    const queue = requestQueue();
    const frames = mls.subscribe(queue.requests())[Symbol.asyncIterator]();
    const next = async () => {
      const result = await frames.next();
      assert.ok(!result.done, "the stream ended");
      return frameOf(result.value);
    };
    try {
      const topic = topicOf(group);
      queue.push(mutate({ adds: [{ topic }, { topic, idCursor: 0n }, { topic }], mutateId: 1n }));
      const history: bigint[] = [];
      let live = 0;
      for (let frame = await next(); frame?.case !== "catchupComplete"; frame = await next()) {
        if (frame?.case === "messages") history.push(...frame.value.groupMessages.map((m) => m.version.value?.id ?? 0n));
        if (frame?.case === "topicsLive") live += 1;
      }
      assert.equal(history.length, 5, "each stored record once");
      assert.equal(new Set(history).size, 5);
      assert.equal(live, 1, "one TopicsLive for the one topic");

      await publish(mls, group, 1, 100);
      const liveFrame = await next();
      assert.equal(liveFrame?.case === "messages" && liveFrame.value.groupMessages.length, 1);
      // Had the topic been followed twice, its second copy of the record would come before the pong.
      queue.push(ping(9n));
      const pong = await next();
      assert.equal(pong?.case === "pong" && pong.value.nonce, 9n);
    } finally {
      queue.end();
      await frames.return?.();
    }
  });

  it("charges a token per topic added: a Mutate past the budget is RESOURCE_EXHAUSTED, another address is served", async () => {
    const node = await startAbuseNode({
      // The stream's own 20 tokens and 20 more: 30 topics are past it, 10 are not.
      rateLimits: { publish: { capacity: 1000, refillPerMinute: 1 }, default: { capacity: 40, refillPerMinute: 1 } },
    });
    nodes.push(node);
    const attack = (async () => {
      const queue = requestQueue();
      // History only: uncharged, the stream would end cleanly after its catch-up.
      queue.push(
        mutate({ adds: Array.from({ length: 30 }, () => ({ topic: topicOf(newGroup()) })), mutateId: 1n, historyOnly: true }),
      );
      for await (const response of attackerClient(node).subscribe(queue.requests())) {
        if (frameOf(response)?.case === "catchupComplete") queue.end();
      }
    })();
    assert.equal(await codeOf(attack), Code.ResourceExhausted);

    // The normal client, at another address, adds ten topics and gets its live message.
    const mls = normalClient(node);
    const group = newGroup();
    const queue = requestQueue();
    queue.push(mutate({ adds: [group, ...Array.from({ length: 9 }, newGroup)].map((g) => ({ topic: topicOf(g) })), mutateId: 1n }));
    const frames = mls.subscribe(queue.requests())[Symbol.asyncIterator]();
    try {
      for (let r = await frames.next(); !r.done; r = await frames.next()) {
        const frame = frameOf(r.value);
        if (frame?.case === "catchupComplete") await publish(mls, group, 1, 100);
        if (frame?.case === "messages" && frame.value.mutateId === 0n) break;
      }
    } finally {
      queue.end();
      await frames.return?.();
    }
  });

  it("cuts off a client that stops reading its live frames with ABORTED once it is past its backlog", async () => {
    const node = await startAbuseNode({ streamLimits: { maxBacklogRecords: 200 } });
    nodes.push(node);
    const normal = normalClient(node);
    const group = newGroup();
    const TOTAL = 1000;
    const queue = requestQueue();
    queue.push(mutate({ adds: [{ topic: topicOf(group) }], mutateId: 1n }));
    const frames = attackerClient(node).subscribe(queue.requests())[Symbol.asyncIterator]();
    for (;;) {
      const r = await frames.next();
      assert.ok(!r.done, "the stream ended before its catch-up");
      if (frameOf(r.value)?.case === "catchupComplete") break;
    }
    // Caught up; now it stops reading while the group gets busy.
    await publish(normal, group, TOTAL, 1024, 20);
    let delivered = 0;
    const reading = (async () => {
      for (let r = await frames.next(); !r.done; r = await frames.next()) {
        const frame = frameOf(r.value);
        if (frame?.case === "messages") delivered += frame.value.groupMessages.length;
        if (delivered === TOTAL) return;
      }
    })();
    assert.equal(await codeOf(reading), Code.Aborted, `${delivered} delivered`);
    assert.ok(delivered < TOTAL);
    queue.end();
    const page = await normal.queryGroupMessages({ groupId: group, pagingInfo: { limit: 1 } });
    assert.equal(page.messages.length, 1, "the node serves the normal client on");
  });

  it("cuts off a client whose requests outrun the node (RESOURCE_EXHAUSTED), while a normal client publishes and queries", async () => {
    const node = await startAbuseNode();
    nodes.push(node);
    const normal = normalClient(node);
    const heavy = newGroup();
    // A wave that takes many round trips of the window, while the pings behind it pile up.
    await publish(normal, heavy, 20, 100 * 1024, 10);
    const PINGS = 5000;
    const flood = () =>
      createAsyncIterable([
        mutate({ adds: [{ topic: topicOf(heavy) }], mutateId: 1n }),
        ...Array.from({ length: PINGS }, (_, i) => ping(BigInt(i + 1))),
      ]);
    let pongs = 0;
    const attack = (async () => {
      for await (const response of attackerClient(node).subscribe(flood())) {
        if (frameOf(response)?.case === "pong" && ++pongs === PINGS) return;
      }
    })();
    const group = newGroup();
    await publish(normal, group, 3, 100);
    assert.equal(await codeOf(attack), Code.ResourceExhausted, `${pongs} pongs`);
    assert.ok(pongs < PINGS);
    const page = await normal.queryGroupMessages({ groupId: group });
    assert.equal(page.messages.length, 3);
    await eventually(() => node.load().subscribedTopics === 0, 10_000, () => JSON.stringify(node.load()));
  });
});
