// Drives the official @xmtp/node-sdk through Client.create against the
// capture server (localhost:5556 unless PORT says otherwise) and writes what
// it sent as fixtures of @parley/proto:
//   npm run capture -w @parley/testkit
// Re-running it replaces the fixtures with a new wallet's registration.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiUrls, Client } from "@xmtp/node-sdk";
import { createTestWallet, officialSigner } from "../src/test-wallet.js";
import { startCaptureServer } from "../src/grpc-capture-server.js";

const outDir = fileURLToPath(
  new URL("../../proto/fixtures/official-sdk/registration/", import.meta.url),
);

function packageVersion(name: string): string {
  const path = new URL(`../../../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

const server = await startCaptureServer(Number(process.env.PORT ?? 5556));
try {
  (ApiUrls as Record<string, string>).local = server.url;
  const wallet = createTestWallet();
  const client = await Client.create(officialSigner(wallet), {
    env: "local",
    dbPath: null,
    disableDeviceSync: true,
    loggingLevel: "Off" as never,
  });

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const calls = server.calls.map((call, index) => {
    const method = call.path.split("/").at(-1) ?? "unknown";
    const file = `${String(index + 1).padStart(2, "0")}-${method}.bin`;
    writeFileSync(join(outDir, file), call.request);
    return { file, path: call.path };
  });
  const manifest = {
    capturedWith: `@xmtp/node-sdk ${packageVersion("@xmtp/node-sdk")} (@xmtp/node-bindings ${packageVersion("@xmtp/node-bindings")})`,
    libxmtpVersion: server.calls[0]?.headers["x-libxmtp-version"] ?? null,
    capturedAt: new Date().toISOString(),
    walletAddress: wallet.address,
    inboxId: client.inboxId,
    installationId: client.installationId,
    signedTexts: wallet.signedTexts,
    calls,
  };
  writeFileSync(join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`captured ${calls.length} calls into ${outDir}`);
  for (const call of calls) console.log(`  ${call.file}`);
} finally {
  await server.close();
}
