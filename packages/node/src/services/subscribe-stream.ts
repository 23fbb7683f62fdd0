// The XIP-83 bidirectional Subscribe (../shared/spec/xmtp-node-api.md
// section 1.5): the client adds and removes topics while the stream is open.
// Each Mutate is a wave: the history of its added topics after their cursors
// (frames tagged with its mutate_id), TopicsLive once a topic is caught up,
// then CatchupComplete; only after that do live frames (mutate_id 0) of those
// topics flow. Work is done one event at a time, so a wave's frames never mix
// with live ones. Topics are listened to before their history is read and
// every read starts at the topic's own cursor, so nothing is skipped or sent
// twice. With `history_only` the topics are not kept live; a client that
// half-closes once its waves are done, with no live topics, gets the end of
// the stream (a bounded sync). The node sends no pings (keepalive 0) and
// answers the client's.
//
// Under abuse: a topic named twice in one Mutate is followed once (from the
// earlier cursor), so each record goes out once; each added topic costs a
// rate-limit token as its request arrives (../limits/rate-limit.ts); at most maxQueuedRequests requests (naming at most
// maxQueuedRequestBytes of topics) wait to be served, and a client that
// sends faster than that is cut off (RESOURCE_EXHAUSTED);
// a frame carries at most maxFrameBytes of payload; a client that falls
// past its backlog limit is cut off with ABORTED (../streams/backlog.ts).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { mlsApi, SubscribeTopicKind } from "@parley/proto";
import { invalidArgument, NodeError } from "../node-error.js";
import { Backlog, type StreamLimits } from "../streams/backlog.js";
import type { GroupMessageRecord, Store, WelcomeRecord } from "../store/store.js";
import { topicKey, type Notifier, type TopicKind } from "../streams/notifier.js";
import type { RequestLimits } from "./limits.js";
import { readTopicWithin } from "./answer-budget.js";
import { groupMessageOf, welcomeMessageOf } from "./wire-records.js";

const BATCH = 100;
const KINDS: Record<number, TopicKind> = {
  [SubscribeTopicKind.groupMessages]: "group",
  [SubscribeTopicKind.welcomeMessages]: "welcome",
};

interface Topic {
  readonly kind: TopicKind;
  readonly id: Uint8Array;
  readonly raw: Uint8Array;
  cursor: bigint;
  stop?: () => void;
}

type Frame = mlsApi.SubscribeResponse;

function frame(response: NonNullable<MessageInitShape<typeof mlsApi.SubscribeResponse_V1Schema>["response"]>): Frame {
  return create(mlsApi.SubscribeResponseSchema, { version: { case: "v1", value: { response } } });
}

function parseTopic(raw: Uint8Array): { kind: TopicKind; id: Uint8Array } {
  const kind = KINDS[raw[0] ?? -1];
  if (!kind || raw.length < 2) throw invalidArgument("a topic is 0x00 ‖ group id or 0x01 ‖ installation key");
  return { kind, id: raw.subarray(1) };
}

export interface SubscribeDeps {
  readonly store: Store;
  readonly notifier: Notifier;
  readonly limits: RequestLimits;
  readonly streamLimits: StreamLimits;
}

/** What a request holds beyond its fixed fields: the topics it names. */
function topicBytes(request: mlsApi.SubscribeRequest): number {
  const body = request.version.case === "v1" ? request.version.value.request : undefined;
  if (body?.case !== "mutate") return 0;
  return body.value.adds.reduce((n, a) => n + a.topic.length, 0) + body.value.removes.reduce((n, r) => n + r.length, 0);
}

export async function* subscribeStream(
  requests: AsyncIterable<mlsApi.SubscribeRequest>,
  signal: AbortSignal,
  { store, notifier, limits, streamLimits }: SubscribeDeps,
): AsyncGenerator<Frame> {
  const backlog = new Backlog(streamLimits);
  const live = new Map<string, Topic>();
  const due = new Set<string>();
  const pending: mlsApi.SubscribeRequest[] = [];
  let pendingBytes = 0;
  let requestsEnded = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();

  const pump = (async () => {
    try {
      for await (const request of requests) {
        // Reading on while the queue is full would buffer without bound.
        pendingBytes += topicBytes(request);
        if (pending.length >= streamLimits.maxQueuedRequests || pendingBytes > streamLimits.maxQueuedRequestBytes) {
          throw new NodeError("node.rate_limited", "subscribe requests arrive faster than they are served");
        }
        pending.push(request);
        poke();
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      // Served before anything still queued: the client is cut off now.
      pending.length = 0;
      pendingBytes = 0;
    }
    requestsEnded = true;
    poke();
  })();
  // As in followTopics: a stream reset while a frame waits on the client's
  // window never resumes this generator, so the abort lets go of its topics.
  const onAbort = () => {
    for (const topic of live.values()) topic.stop?.();
    live.clear();
    poke();
  };
  signal.addEventListener("abort", onAbort, { once: true });

  async function* read(topic: Topic, mutateId: bigint): AsyncGenerator<Frame> {
    for (;;) {
      const page = { direction: "ascending" as const, limit: BATCH, cursor: topic.cursor };
      // One frame's worth, measured before it is read (answer-budget.ts).
      const { records, more } = await readTopicWithin(store, topic.kind, topic.id, page, streamLimits.maxFrameBytes);
      const last = records.at(-1);
      if (last === undefined) return;
      topic.cursor = last.id;
      backlog.sent(records.length, records.reduce((n, r) => n + r.data.length, 0));
      yield frame({
        case: "messages",
        value:
          topic.kind === "group"
            ? { groupMessages: (records as GroupMessageRecord[]).map((r) => groupMessageOf(r)), mutateId }
            : { welcomeMessages: (records as WelcomeRecord[]).map(welcomeMessageOf), mutateId },
      });
      backlog.check();
      if (!more) return;
    }
  }

  async function* mutate(m: mlsApi.SubscribeRequest_V1_Mutate): AsyncGenerator<Frame> {
    if (m.adds.length > 0 && m.mutateId === 0n) throw invalidArgument("a Mutate that adds topics needs a mutate_id");
    if (live.size + m.adds.length > limits.maxLookups) throw invalidArgument("too many topics");
    for (const raw of m.removes) {
      const key = topicKey(parseTopic(raw).kind, parseTopic(raw).id);
      live.get(key)?.stop?.();
      live.delete(key);
      due.delete(key);
    }
    // The same topic twice: followed once, from the earlier cursor.
    const byKey = new Map<string, Topic>();
    for (const add of m.adds) {
      const topic: Topic = { ...parseTopic(add.topic), raw: add.topic, cursor: add.idCursor };
      const key = topicKey(topic.kind, topic.id);
      const known = byKey.get(key);
      if (!known || topic.cursor < known.cursor) byKey.set(key, topic);
    }
    const wave = [...byKey.values()];
    for (const topic of wave) {
      const key = topicKey(topic.kind, topic.id);
      live.get(key)?.stop?.();
      live.delete(key);
      // Listen before reading history, so a write in between is not missed.
      if (!m.historyOnly && !signal.aborted) {
        topic.stop = notifier.listen([key], (_key, records, bytes) => {
          backlog.add(records, bytes);
          due.add(key);
          poke();
        });
        live.set(key, topic);
      }
    }
    for (const topic of wave) {
      yield* read(topic, m.mutateId);
      yield frame({ case: "topicsLive", value: { topics: [topic.raw] } });
    }
    yield frame({ case: "catchupComplete", value: { mutateId: m.mutateId } });
  }

  try {
    yield frame({ case: "started", value: { keepaliveIntervalMs: 0, capabilities: [] } });
    while (!signal.aborted) {
      backlog.check();
      if (failure !== undefined) throw failure;
      const request = pending.shift();
      if (request) {
        pendingBytes -= topicBytes(request);
        if (request.version.case !== "v1") throw invalidArgument("subscribe request has no version");
        const body = request.version.value.request;
        if (body.case === "mutate") yield* mutate(body.value);
        else if (body.case === "ping") yield frame({ case: "pong", value: { nonce: body.value.nonce } });
        else if (body.case !== "pong") throw invalidArgument("empty subscribe request");
        continue;
      }
      if (due.size > 0) {
        for (const key of [...due]) {
          due.delete(key);
          const topic = live.get(key);
          if (topic) yield* read(topic, 0n);
        }
        continue;
      }
      if (requestsEnded && live.size === 0) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    for (const topic of live.values()) topic.stop?.();
    signal.removeEventListener("abort", onAbort);
    void pump;
  }
}
