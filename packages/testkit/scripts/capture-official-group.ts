// Drives two official @xmtp/node-sdk clients through a group against a
// Parley node and writes the group and welcome traffic as fixtures of
// @parley/proto:
//   npm run capture:group -w @parley/testkit
// alice creates a group with bob and sends a message; bob joins from the
// Welcome and replies. Requests are recorded by an interceptor inside the
// node, re-encoded from the decoded message (protobuf-es keeps unknown
// fields and writes in field order, as libxmtp's prost does, so the bytes
// are the client's; the fixture test checks the round trip).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { createLogger, createXmtpValidators, SqliteStore, startNode } from "@parley/node";
import { ApiUrls, Client, type Group } from "@xmtp/node-sdk";
import { createTestWallet, officialSigner } from "../src/test-wallet.js";

const outDir = fileURLToPath(new URL("../../proto/fixtures/official-sdk/group/", import.meta.url));

const recorded: { method: string; bytes: Uint8Array }[] = [];
const record: Interceptor = (next) => (request) => {
  if (!request.stream) {
    recorded.push({ method: request.method.name, bytes: toBinary(request.method.input, request.message) });
  }
  return next(request);
};

const node = await startNode({
  store: new SqliteStore({ path: ":memory:" }),
  validators: createXmtpValidators(),
  logger: createLogger("silent"),
  port: 0,
  rateLimits: false,
  interceptors: [record],
});
try {
  (ApiUrls as Record<string, string>).local = node.url;
  const options = { env: "local", dbPath: null, disableDeviceSync: true, loggingLevel: "Off" } as never;
  const alice = await Client.create(officialSigner(createTestWallet()), options);
  const bob = await Client.create(officialSigner(createTestWallet()), options);
  recorded.length = 0; // registration is in the registration fixtures

  const group = await alice.conversations.createGroup([bob.inboxId], { groupName: "fixture" });
  await group.sendText("hello bob");
  await bob.conversations.sync();
  const bobsGroup = (await bob.conversations.getConversationById(group.id)) as Group;
  await bobsGroup.sync();
  await bobsGroup.sendText("hello alice");

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const calls = recorded.map((call, index) => {
    const file = `${String(index + 1).padStart(2, "0")}-${call.method}.bin`;
    writeFileSync(join(outDir, file), call.bytes);
    return { file, method: call.method };
  });
  const version = (name: string) =>
    (JSON.parse(readFileSync(new URL(`../../../node_modules/${name}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
  const manifest = {
    capturedWith: `@xmtp/node-sdk ${version("@xmtp/node-sdk")} (@xmtp/node-bindings ${version("@xmtp/node-bindings")})`,
    capturedAt: new Date().toISOString(),
    groupId: group.id,
    alice: { inboxId: alice.inboxId, installationId: alice.installationId },
    bob: { inboxId: bob.inboxId, installationId: bob.installationId },
    texts: ["hello bob", "hello alice"],
    calls,
  };
  writeFileSync(join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`captured ${calls.length} calls into ${outDir}`);
  for (const call of calls) console.log(`  ${call.file}`);
} finally {
  await node.stop();
}
