// IPv6 clients share their limits per /64, over real connections from real
// addresses: two addresses of one /64 added to the loopback interface (this
// needs root and iproute2, as on CI; elsewhere the test is skipped, saying
// why). A client that spends its address's tokens has spent its /64's: its
// neighbour is refused at once, while ::1, another /64, is served.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mlsApi } from "@parley/proto";
import { startTestNode } from "@parley/testkit";
import { codeOf } from "../grpc-code.test-util.js";
import type { RunningNode } from "../node.js";

/** Two addresses of one /64, from the unique local range (RFC 4193): never routed anywhere. */
const NEIGHBOURS = ["fd00:7a:1:2::10", "fd00:7a:1:2::20"] as const;

/** Adds the addresses to `lo`; the reason it could not, if it could not. */
function addNeighbours(): string | undefined {
  try {
    for (const address of NEIGHBOURS) {
      try {
        execFileSync("ip", ["-6", "addr", "add", `${address}/128`, "dev", "lo", "nodad"], { stdio: "pipe" });
      } catch (error) {
        // Left by an earlier run: as good.
        if (!String((error as { stderr?: unknown }).stderr).includes("File exists")) throw error;
      }
    }
    return undefined;
  } catch (error) {
    return `cannot add IPv6 addresses to lo (needs root and iproute2): ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`;
  }
}

function removeNeighbours(): void {
  for (const address of NEIGHBOURS) {
    try {
      execFileSync("ip", ["-6", "addr", "del", `${address}/128`, "dev", "lo"], { stdio: "pipe" });
    } catch {
      // Not there.
    }
  }
}

const unavailable = addNeighbours();
if (unavailable !== undefined) {
  if (process.env["CI"] === "true") throw new Error(unavailable);
  console.log(`skipping the per-/64 test: ${unavailable}`);
}

describe("IPv6 clients limited per /64", { skip: unavailable, timeout: 30_000 }, () => {
  let node: RunningNode;
  const from = (localAddress: string): Client<typeof mlsApi.MlsApi> =>
    createClient(
      mlsApi.MlsApi,
      createGrpcTransport({
        baseUrl: `http://[::1]:${node.port}`,
        nodeOptions: { createConnection: () => net.connect({ host: "::1", port: node.port, localAddress }) },
      }),
    );
  // A query of an empty topic: one token of the default bucket.
  const query = (client: Client<typeof mlsApi.MlsApi>) => codeOf(client.queryGroupMessages({ groupId: new Uint8Array(16).fill(3) }));

  before(async () => {
    node = await startTestNode({
      host: "::",
      rateLimits: { publish: { capacity: 100, refillPerMinute: 1 }, default: { capacity: 3, refillPerMinute: 1 } },
    });
  });
  after(async () => {
    await node.stop();
    removeNeighbours();
  });

  it("a neighbour in the same /64 shares the limit; another /64 does not", async () => {
    const [first, second] = NEIGHBOURS.map(from);
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await query(first!));
    assert.deepEqual(answers, [undefined, undefined, undefined, Code.ResourceExhausted], "three tokens, then refused");
    assert.equal(await query(second!), Code.ResourceExhausted, "its neighbour in the /64 has none left either");
    assert.equal(await query(from("::1")), undefined, "::1 is another /64");
  });
});
