// The official @xmtp/node-sdk 5.5.0 on a Parley node whose inbox a stolen
// installation has filled as far as @parley/identity's recovery reserve
// lets it: the official client, holding the recovery wallet, still revokes
// the installation and changes the recovery identifier; adding a wallet is
// refused past the reserve (the README's stated difference from
// xmtp-node-go, which would take it until 256 updates).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  assertInboxId,
  createPrivateKeySigner,
  createSignatureRequest,
  generateInstallationSecretKey,
  installationIdFromKey,
  installationMember,
  installationPublicKey,
  maxIdentityUpdates,
  maxUpdatesWithoutRecovery,
  signerIdentifier,
  type ActionRequest,
  type Signer,
} from "@parley/identity";
import { createLogger, type DestinationStream, type RunningNode } from "@parley/node";
import { identityApi } from "@parley/proto";
import { createTestWallet, officialSigner, startTestNode } from "@parley/testkit";
import { Client } from "@xmtp/node-sdk";
import { officialOptions as options, useNodeForOfficial } from "./official-options.js";

let time = BigInt(Date.now()) * 1_000_000n;

async function publish(identity: ReturnType<typeof createClient<typeof identityApi.IdentityApi>>, inboxId: string, actions: ActionRequest[], wallets: Signer[], keys: Uint8Array[]): Promise<void> {
  const request = createSignatureRequest({ inboxId: assertInboxId(inboxId), clientTimestampNs: (time += 1_000_000n), actions });
  for (const wallet of wallets) await request.signWith(wallet);
  for (const key of keys) request.signWithInstallationKey(key);
  await identity.publishIdentityUpdate({ identityUpdate: request.toProto() });
}

const memberOfKey = (secret: Uint8Array) => installationMember(installationIdFromKey(installationPublicKey(secret)));

describe("the official client keeps its inbox against a stolen installation", { timeout: 180_000 }, () => {
  let node: RunningNode;
  const logged: Record<string, unknown>[] = [];
  /** The code of the last publish the node refused. */
  const lastRefusal = () => logged.findLast((e) => e["msg"] === "request refused" && String(e["method"]).endsWith("/PublishIdentityUpdate"))?.["code"];

  before(async () => {
    const destination: DestinationStream = { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) };
    node = await startTestNode({ logger: createLogger("debug", destination) });
    useNodeForOfficial(node);
  });

  after(async () => {
    await node.stop();
  });

  it("past the thief's 240 updates, the official client revokes the installation and changes recovery; adding a wallet is refused", async () => {
    const wallet = createTestWallet();
    const phone = await Client.create(officialSigner(wallet), options as never);
    const identity = createClient(identityApi.IdentityApi, createGrpcTransport({ baseUrl: node.url }));

    // The owner's laptop, registered with the wallet; its key is what the thief copies.
    const owner = await signerIdentifier(officialSigner(wallet));
    const laptop = generateInstallationSecretKey();
    await publish(identity, phone.inboxId, [{ type: "addAssociation", newMember: memberOfKey(laptop), existingMember: owner }], [officialSigner(wallet)], [laptop]);

    // The thief adds wallets it makes until the node says no.
    let updates = 2;
    let refusal: unknown;
    while (refusal === undefined && updates < maxIdentityUpdates) {
      const thiefWallet = createPrivateKeySigner(randomBytes(32));
      try {
        await publish(identity, phone.inboxId, [{ type: "addAssociation", newMember: await signerIdentifier(thiefWallet), existingMember: memberOfKey(laptop) }], [thiefWallet], [laptop]);
        updates++;
      } catch (error) {
        refusal = error;
      }
    }
    assert.equal(updates, maxUpdatesWithoutRecovery);
    assert.equal(ConnectError.from(refusal).code, Code.InvalidArgument);

    const laptopId = installationPublicKey(laptop);
    assert.ok((await phone.preferences.fetchInboxState()).installations.some((i) => Buffer.from(i.bytes).equals(laptopId)));
    await phone.revokeInstallations([laptopId]);
    const after = await phone.preferences.fetchInboxState();
    assert.deepEqual(after.installations.map((i) => i.id), [phone.installationId], "only the phone is left");

    const heir = createTestWallet();
    await phone.changeRecoveryIdentifier({ identifier: heir.address, identifierKind: 0 /* Ethereum */ });
    assert.equal((await phone.preferences.fetchInboxState()).recoveryIdentifier.identifier, heir.address);

    // An addition signed by an installation, past the reserve: refused here (xmtp-node-go would take it until 256).
    logged.length = 0;
    await assert.rejects(phone.unsafe_addAccount(officialSigner(createTestWallet()), true));
    assert.equal(lastRefusal(), "identity.reserved_for_recovery");
  });
});
