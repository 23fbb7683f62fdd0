// Retention through a node: with it on, a group's messages and an
// installation's welcomes go once older than the retention, while what is
// newer stays and publishing goes on; with it off (the default), nothing
// goes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { mlsApi } from "@parley/proto";
import { createInProcessTestNode, mlsSamples } from "@parley/testkit";

const v1 = (data: Uint8Array) => ({ version: { case: "v1" as const, value: { data, senderHmac: randomBytes(32), shouldPush: true } } });
const welcome = (installationKey: Uint8Array) => ({
  version: { case: "v1" as const, value: { installationKey, data: randomBytes(300), hpkePublicKey: randomBytes(32), welcomeMetadata: new Uint8Array() } },
});

describe("retention", { timeout: 60_000 }, () => {
  it("deletes group messages and welcomes once older than the retention, keeps newer ones, and deletes nothing when off", async () => {
    const samples = await mlsSamples();
    const RETENTION_MS = 1500;
    const kept = createInProcessTestNode();
    const expiring = createInProcessTestNode({ retention: { groupMessagesMs: RETENTION_MS, welcomesMs: RETENTION_MS, sweepIntervalMs: 50 } });
    try {
      const key = randomBytes(32);
      const apis = [kept, expiring].map((node) => createClient(mlsApi.MlsApi, node.transport));
      for (const mls of apis) {
        await mls.sendGroupMessages({ messages: [v1(samples.applicationMessages[0]!), v1(samples.commit)] });
        await mls.sendWelcomeMessages({ messages: [welcome(key)] });
      }
      const [keptApi, expiringApi] = apis as [(typeof apis)[0], (typeof apis)[0]];
      const counts = async (mls: typeof keptApi) => [
        (await mls.queryGroupMessages({ groupId: samples.groupId })).messages.length,
        (await mls.queryWelcomeMessages({ installationKey: key })).messages.length,
      ];
      assert.deepEqual(await counts(expiringApi), [2, 1], "nothing goes before the retention has passed");
      const deadline = Date.now() + 30_000;
      while ((await counts(expiringApi)).some((n) => n > 0)) {
        assert.ok(Date.now() < deadline, "still there 30 s after a retention of 1.5 s");
        await sleep(50);
      }
      // Newer records stay; the node without retention kept everything.
      await expiringApi.sendGroupMessages({ messages: [v1(samples.applicationMessages[1]!)] });
      await expiringApi.sendWelcomeMessages({ messages: [welcome(key)] });
      assert.deepEqual(await counts(expiringApi), [1, 1]);
      assert.deepEqual(await counts(keptApi), [2, 1]);
    } finally {
      await kept.stop();
      await expiring.stop();
    }
  });
});
