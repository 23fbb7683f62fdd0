// Costs follow work, on a node in this process (one client address): a
// lookup is charged per key, inbox or identifier, a subscription per topic,
// and every request on an open Subscribe stream (a ping too); a call that
// cannot pay is RESOURCE_EXHAUSTED and takes only its own token.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { associations, identityApi, mlsApi } from "@parley/proto";
import { createInProcessTestNode, privateMessageOfSize } from "@parley/testkit";
import { codeOf } from "../grpc-code.test-util.js";
import { STREAM_OPENING_TOKENS } from "./request-costs.js";

/** A node whose client may spend 100 default tokens, never refilled. */
const limitedNode = () =>
  createInProcessTestNode({ rateLimits: { publish: { capacity: 100, refillPerMinute: 0 }, default: { capacity: 100, refillPerMinute: 0 } } });
const keys = (count: number) => Array.from({ length: count }, () => new Uint8Array(randomBytes(32)));

describe("request costs", () => {
  it("charges a lookup per key it names", async () => {
    const node = limitedNode();
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      assert.equal((await mls.fetchKeyPackages({ installationKeys: keys(60) })).keyPackages.length, 60);
      // 40 left: 50 keys are refused, and only the call's own token is taken.
      assert.equal(await codeOf(mls.fetchKeyPackages({ installationKeys: keys(50) })), Code.ResourceExhausted);
      assert.equal((await mls.fetchKeyPackages({ installationKeys: keys(39) })).keyPackages.length, 39);
      assert.equal(await codeOf(mls.queryWelcomeMessages({ installationKey: keys(1)[0] ?? new Uint8Array() })), Code.ResourceExhausted);
    } finally {
      await node.stop();
    }
  });

  it("charges identity lookups per inbox and per identifier", async () => {
    const node = limitedNode();
    try {
      const identity = createClient(identityApi.IdentityApi, node.transport);
      const inboxes = Array.from({ length: 101 }, () => ({ inboxId: randomBytes(32).toString("hex") }));
      assert.equal(await codeOf(identity.getIdentityUpdates({ requests: inboxes })), Code.ResourceExhausted);
      const identifiers = Array.from({ length: 101 }, () => ({
        identifier: `0x${randomBytes(20).toString("hex")}`,
        identifierKind: associations.IdentifierKind.ETHEREUM,
      }));
      assert.equal(await codeOf(identity.getInboxIds({ requests: identifiers })), Code.ResourceExhausted);
      assert.equal((await identity.getInboxIds({ requests: identifiers.slice(0, 90) })).responses.length, 90);
    } finally {
      await node.stop();
    }
  });

  it("charges commit log entries to the publish bucket, as a publish", async () => {
    const node = createInProcessTestNode({ rateLimits: { publish: { capacity: 5, refillPerMinute: 0 }, default: { capacity: 1000, refillPerMinute: 0 } } });
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const entry = () => ({ groupId: keys(1)[0]!, serializedCommitLogEntry: new Uint8Array(randomBytes(40)), signature: { bytes: new Uint8Array(randomBytes(64)) } });
      // 5 publish tokens: one call of 5 entries, then nothing, though the default bucket is full.
      await mls.batchPublishCommitLog({ requests: Array.from({ length: 5 }, entry) });
      assert.equal(await codeOf(mls.batchPublishCommitLog({ requests: [entry()] })), Code.ResourceExhausted);
      assert.equal((await mls.fetchKeyPackages({ installationKeys: keys(10) })).keyPackages.length, 10);
    } finally {
      await node.stop();
    }
  });

  it("holds what an address may have stored to its quota of bytes, whatever the rate allows", async () => {
    const node = createInProcessTestNode({
      rateLimits: {
        publish: { capacity: 10_000, refillPerMinute: 0 },
        default: { capacity: 10_000, refillPerMinute: 0 },
        storage: { capacity: 3 * 256 * 1024, refillPerMinute: 0 },
      },
    });
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const groupId = keys(1)[0]!;
      const send = () =>
        mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessageOfSize(groupId, 250 * 1024), senderHmac: new Uint8Array(32), shouldPush: true } } }] });
      for (let i = 0; i < 3; i += 1) await send();
      assert.equal(await codeOf(send()), Code.ResourceExhausted, "the fourth 250 KiB message passes 768 KiB");
      assert.equal((await mls.queryGroupMessages({ groupId })).messages.length, 3, "nothing past the quota is stored");
    } finally {
      await node.stop();
    }
  });

  it("charges a page by the bytes it answers, before they are read", async () => {
    const node = createInProcessTestNode({ rateLimits: { publish: { capacity: 1000, refillPerMinute: 0 }, default: { capacity: 100, refillPerMinute: 0 } } });
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const groupId = keys(1)[0]!;
      for (let i = 0; i < 10; i += 1) {
        await mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: privateMessageOfSize(groupId, 200 * 1024), senderHmac: new Uint8Array(32), shouldPush: true } } }] });
      }
      // Two messages: about 400 KiB, 25 tokens and the call's.
      assert.equal((await mls.queryGroupMessages({ groupId, pagingInfo: { limit: 2 } })).messages.length, 2);
      // Ten: about 2 MiB, some 125 tokens, more than are left.
      assert.equal(await codeOf(mls.queryGroupMessages({ groupId })), Code.ResourceExhausted);
    } finally {
      await node.stop();
    }
  });

  it("holds the streams an address opens to their own bucket, whatever tokens it has", async () => {
    const node = createInProcessTestNode({
      rateLimits: { publish: { capacity: 1000, refillPerMinute: 0 }, default: { capacity: 1000, refillPerMinute: 0 }, streams: { capacity: 2, refillPerMinute: 0 } },
    });
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const firstFrame = async () => {
        for await (const _ of mls.subscribeGroupMessages({ filters: keys(1).map((groupId) => ({ groupId })) }, { timeoutMs: 300 })) break;
      };
      // Two streams open (and end at their deadline, having nothing to say); the third is refused.
      assert.notEqual(await codeOf(firstFrame()), Code.ResourceExhausted);
      assert.notEqual(await codeOf(firstFrame()), Code.ResourceExhausted);
      assert.equal(await codeOf(firstFrame()), Code.ResourceExhausted);
      assert.equal((await mls.fetchKeyPackages({ installationKeys: keys(5) })).keyPackages.length, 5, "unary calls go on");
    } finally {
      await node.stop();
    }
  });

  it("charges a subscription per topic", async () => {
    const node = limitedNode();
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const stream = mls.subscribeGroupMessages({ filters: keys(150).map((groupId) => ({ groupId })) });
      assert.equal(await codeOf((async () => { for await (const _ of stream) break; })()), Code.ResourceExhausted);
    } finally {
      await node.stop();
    }
  });

  it("charges every request on an open Subscribe stream, a ping too", async () => {
    const node = limitedNode();
    try {
      const mls = createClient(mlsApi.MlsApi, node.transport);
      const ping = (nonce: bigint) =>
        create(mlsApi.SubscribeRequestSchema, { version: { case: "v1", value: { request: { case: "ping", value: { nonce } } } } });
      const PINGS = 200;
      let pongs = 0;
      // One ping at a time, each after the last one's pong: the stream's
      // bound on requests waiting to be served is not what this shows.
      let answered: () => void = () => undefined;
      async function* oneAtATime() {
        for (let i = 0; i < PINGS; i += 1) {
          const pong = new Promise<void>((resolve) => (answered = resolve));
          yield ping(BigInt(i));
          await pong;
        }
      }
      const code = await codeOf(
        (async () => {
          for await (const frame of mls.subscribe(oneAtATime())) {
            if (frame.version.value?.response.case !== "pong") continue;
            answered();
            if (++pongs === PINGS) break;
          }
        })(),
      );
      // The stream's own tokens, then one a ping: the rest of the 100 are answered.
      assert.equal(pongs, 100 - STREAM_OPENING_TOKENS);
      assert.equal(code, Code.ResourceExhausted);
    } finally {
      await node.stop();
    }
  });
});
