// The node in memory keeps the port's edge: gRPC answers, a stream's late
// error status, unparseable bodies as INVALID_ARGUMENT, the client address
// per-IP limits key on, unknown methods, and an orderly stop.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, readAllBytes } from "@connectrpc/connect/protocol";
import { health, mlsApi } from "@parley/proto";
import { codeOf } from "./grpc-code.test-util.js";
import { createInProcessNode, type InProcessNodeOptions } from "./in-process.js";
import { clientAddressKey } from "./limits/rate-limit.js";
import { createLogger } from "./logger.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Validators } from "./validation/validators.js";

// These tests send nothing that needs validating.
const unusedValidators: Validators = {
  keyPackage: () => Promise.reject(new Error("not used here")),
  groupMessage: () => {
    throw new Error("not used here");
  },
  identityUpdate: () => Promise.reject(new Error("not used here")),
};

const inProcess = (options: Partial<InProcessNodeOptions> = {}) =>
  createInProcessNode({
    store: new SqliteStore({ path: ":memory:" }),
    validators: unusedValidators,
    logger: createLogger("silent"),
    rateLimits: false,
    ...options,
  });

describe("a node in process", () => {
  it("answers gRPC in memory, and maps errors to their codes", async () => {
    const node = inProcess();
    try {
      const status = await createClient(health.Health, node.transport).check({ service: "xmtp.mls.api.v1.MlsApi" });
      assert.equal(status.status, health.HealthCheckResponse_ServingStatus.SERVING);
      const mls = createClient(mlsApi.MlsApi, node.transport);
      assert.deepEqual((await mls.queryGroupMessages({ groupId: new Uint8Array([1]) })).messages, []);
      assert.equal(await codeOf(mls.queryGroupMessages({ groupId: new Uint8Array() })), Code.InvalidArgument);
      assert.equal(await codeOf(mls.revokeInstallation({})), Code.Unimplemented);
    } finally {
      await node.stop();
    }
  });

  it("passes on a gRPC stream's error status that follows its first message", async () => {
    // Subscribe answers `started` at once; an add without a mutate_id then fails the stream.
    const node = inProcess();
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const request = create(mlsApi.SubscribeRequestSchema, {
        version: { case: "v1", value: { request: { case: "mutate", value: { adds: [{ topic: new Uint8Array([0, 1]) }] } } } },
      });
      const frames: string[] = [];
      const code = await codeOf(
        (async () => {
          for await (const frame of mls.subscribe(createAsyncIterable([request]))) frames.push(frame.version.value?.response.case ?? "");
        })(),
      );
      assert.deepEqual(frames, ["started"]);
      assert.equal(code, Code.InvalidArgument);
    } finally {
      await node.stop();
    }
  });

  it("answers a body that is not protobuf with INVALID_ARGUMENT, as on the port", async () => {
    const node = inProcess();
    try {
      const response = await node.httpClient({
        url: `${node.url}/xmtp.mls.api.v1.MlsApi/QueryGroupMessages`,
        method: "POST",
        header: new Headers({ "content-type": "application/grpc", te: "trailers" }),
        body: createAsyncIterable([new Uint8Array([0, 0, 0, 0, 1, 0])]),
      });
      await readAllBytes(response.body, 1024);
      assert.equal(response.trailer.get("grpc-status") ?? response.header.get("grpc-status"), String(Code.InvalidArgument));
    } finally {
      await node.stop();
    }
  });

  it("gives every call the client address per-IP limits key on, and applies those limits", async () => {
    const seen: string[] = [];
    const record: Interceptor = (next) => (request) => {
      seen.push(request.contextValues.get(clientAddressKey));
      return next(request);
    };
    const node = inProcess({
      clientAddress: "192.0.2.7",
      interceptors: [record],
      rateLimits: { publish: { capacity: 1, refillPerMinute: 0 }, default: { capacity: 2, refillPerMinute: 0 } },
    });
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      for (let i = 0; i < 2; i++) await mls.queryWelcomeMessages({ installationKey: new Uint8Array([i + 1]) });
      assert.equal(await codeOf(mls.queryWelcomeMessages({ installationKey: new Uint8Array([9]) })), Code.ResourceExhausted);
      assert.deepEqual(seen, ["192.0.2.7", "192.0.2.7"], "the refused call stops at the limit, before the node's other interceptors");
    } finally {
      await node.stop();
    }
  });

  it("stop ends open streams, lets a call in progress finish, closes the store after it, and refuses new calls", async () => {
    const events: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const hold: Interceptor = (next) => async (request) => {
      if (request.method.name !== "QueryWelcomeMessages") return next(request);
      entered();
      await held;
      const answer = await next(request);
      events.push("call answered");
      return answer;
    };
    const store = new (class extends SqliteStore {
      override close(): Promise<void> {
        events.push("store closed");
        return super.close();
      }
    })({ path: ":memory:" });
    const node = inProcess({ store, interceptors: [hold] });
    const mls = createClient(mlsApi.MlsApi, node.transport);

    const stream = mls.subscribeGroupMessages({ filters: [{ groupId: new Uint8Array([7]) }] });
    const streamed = (async () => {
      let count = 0;
      for await (const _ of stream) count++;
      return count;
    })();
    const call = mls.queryWelcomeMessages({ installationKey: new Uint8Array([1]) });
    await inside;
    const stopped = node.stop();
    assert.equal(await streamed, 0, "the stream ended cleanly");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(events, [], "the store stays open while a call is in progress");
    assert.equal(await codeOf(createClient(health.Health, node.transport).check({})), Code.Unavailable);
    release();
    assert.deepEqual((await call).messages, []);
    await stopped;
    assert.deepEqual(events, ["call answered", "store closed"]);
  });
});
