// Signature checks run in worker threads: the node's event loop keeps
// answering other callers while the heaviest check runs (a cold replay of a
// long inbox log), the queue of checks is bounded, and a refusal comes back
// as the library's own error.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  createPrivateKeySigner,
  createSignatureRequest,
  decodeIdentityUpdate,
  deriveInboxId,
  ethereumMember,
  installationIdFromKey,
  installationMember,
  installationPublicKey,
  isIdentityError,
  signerIdentifier,
  type ActionRequest,
} from "@parley/identity";
import { isMlsError } from "@parley/mls";
import { decode, health, identityApi, associations } from "@parley/proto";
import { createLogger } from "../logger.js";
import { startNode, type RunningNode } from "../node.js";
import { NodeError } from "../node-error.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { createVerifyPool } from "./verify-pool.js";
import { createXmtpValidators } from "./xmtp-validators.js";

/** An inbox's log: a registration, then installations added and revoked in turn (one or two signatures each). */
async function buildLog(length: number): Promise<Uint8Array[]> {
  const signer = createPrivateKeySigner(sha256(utf8ToBytes("verify pool wallet")));
  const wallet = await signerIdentifier(signer);
  if (wallet.kind !== "ethereum") throw new Error("unreachable");
  const inboxId = deriveInboxId(ethereumMember(wallet.address), 0n);
  const device = (i: number) => {
    const secretKey = sha256(utf8ToBytes(`verify pool installation ${i}`));
    return { secretKey, member: installationMember(installationIdFromKey(installationPublicKey(secretKey))) };
  };
  const log: Uint8Array[] = [];
  let time = 1_800_000_000_000_000_000n;
  for (let i = 0; i < length; i += 1) {
    const actions: ActionRequest[] =
      i === 0
        ? [
            { type: "createInbox", identifier: wallet, nonce: 0n },
            { type: "addAssociation", newMember: device(0).member, existingMember: wallet },
          ]
        : i % 2 === 1
          ? [{ type: "addAssociation", newMember: device(i).member, existingMember: wallet }]
          : [{ type: "revokeAssociation", member: device(i - 1).member, recoveryIdentifier: wallet }];
    const request = createSignatureRequest({ inboxId, clientTimestampNs: (time += 1_000_000_000n), actions });
    await request.signWith(signer);
    if (i === 0) request.signWithInstallationKey(device(0).secretKey);
    else if (i % 2 === 1) request.signWithInstallationKey(device(i).secretKey);
    log.push(request.toBytes());
  }
  return log;
}

const publishRequest = (update: Uint8Array) =>
  ({ identityUpdate: decode(associations.IdentityUpdateSchema, update) }) satisfies Partial<identityApi.PublishIdentityUpdateRequest>;

describe("signature checks off the event loop", { timeout: 120_000 }, () => {
  let dir: string;
  let log: Uint8Array[];
  const LOG = 129;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-verify-pool-"));
    log = await buildLog(LOG);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function nodeOn(path: string): Promise<RunningNode> {
    return startNode({
      store: new SqliteStore({ path }),
      validators: createXmtpValidators(),
      logger: createLogger("silent"),
      host: "127.0.0.1",
      port: 0,
      rateLimits: false,
    });
  }

  it("health checks keep answering while a node replays a long inbox log to check an update", async () => {
    const path = join(dir, "node.db3");
    // The log is stored through one node; a second one, started on the same
    // store, knows no inbox state and replays the log for the next update.
    let node = await nodeOn(path);
    try {
      const identity = createClient(identityApi.IdentityApi, createGrpcTransport({ baseUrl: node.url }));
      for (const update of log.slice(0, -1)) await identity.publishIdentityUpdate(publishRequest(update));
    } finally {
      await node.stop();
    }
    node = await nodeOn(path);
    try {
      const transport = createGrpcTransport({ baseUrl: node.url });
      const identity = createClient(identityApi.IdentityApi, transport);
      const checks = createClient(health.Health, transport);
      await checks.check({}); // the connection is up before the clock of the race starts
      let replayed = false;
      const publish = identity.publishIdentityUpdate(publishRequest(log.at(-1)!)).finally(() => (replayed = true));
      let answered = 0;
      while (!replayed) {
        await checks.check({});
        answered += 1;
      }
      await publish;
      // On the event loop, the replay (128 updates, 193 signatures: most of
      // a second of CPU) holds every socket until it is done, and a health
      // check or two gets through; in a worker, one after another answers
      // in a millisecond or so.
      assert.ok(answered >= 25, `only ${answered} health checks answered while the log was replayed`);
    } finally {
      await node.stop();
    }
  });

  it("refuses checks past its queue at once, and answers those it took", async () => {
    const pool = createVerifyPool({ threads: 1, maxQueued: 2 });
    try {
      const updates = log.slice(0, 3).map((bytes) => decodeIdentityUpdate(bytes));
      const results = await Promise.allSettled(updates.map((update) => pool.verifyIdentityUpdate(update)));
      assert.equal(results[0]!.status, "fulfilled");
      assert.equal(results[1]!.status, "fulfilled");
      assert.equal(results[2]!.status, "rejected");
      const refused: unknown = (results[2] as PromiseRejectedResult).reason;
      assert.ok(refused instanceof NodeError && refused.code === "node.busy");
      // The queue drained: there is room again.
      const verified = await pool.verifyIdentityUpdate(updates[2]!);
      assert.equal(verified.actions.length, 1);
    } finally {
      await pool.close();
    }
  });

  it("gives back the library's refusal: a key package that does not decode, an update whose signature does not verify", async () => {
    const pool = createVerifyPool({ threads: 1 });
    try {
      await assert.rejects(pool.validateKeyPackage(new Uint8Array([0, 1, 2]), 0n), (error: unknown) => isMlsError(error) && error.code === "mls.malformed");
      const update = decodeIdentityUpdate(log[1]!);
      const tampered = { ...update, clientTimestampNs: update.clientTimestampNs + 86_400_000_000_000n };
      await assert.rejects(pool.verifyIdentityUpdate(tampered), (error: unknown) => isIdentityError(error) && error.code === "identity.bad_signature");
    } finally {
      await pool.close();
    }
  });
});
