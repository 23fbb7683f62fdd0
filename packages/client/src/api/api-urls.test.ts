// `env` names to node URLs, as the official SDK maps them; `apiUrl` wins.
import assert from "node:assert/strict";
import { it } from "node:test";
import { Client } from "../index.js";
import { isClientError } from "../client-error.js";
import { resolveApiUrl } from "./api-urls.js";

it("env picks XMTP's URL, dev by default; apiUrl overrides it; an unknown env is client.usage", async () => {
  assert.equal(resolveApiUrl({ env: "local" }), "http://localhost:5556");
  assert.equal(resolveApiUrl({ env: "production" }), "https://grpc.production.xmtp.network:443");
  assert.equal(resolveApiUrl({}), "https://grpc.dev.xmtp.network:443");
  assert.equal(resolveApiUrl({ env: "production", apiUrl: "http://127.0.0.1:9" }), "http://127.0.0.1:9");
  await assert.rejects(Client.build("0x0000000000000000000000000000000000000001", { env: "toString" as never }), (e) => isClientError(e) && e.code === "client.usage");
});
