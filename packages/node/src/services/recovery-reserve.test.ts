// PublishIdentityUpdate keeps the last slots of an inbox's log for its
// recovery identifier (@parley/identity's recovery reserve): a stolen
// installation's wallet additions are refused from the 241st update on, the
// recovery wallet's revocation still lands, and a log the store held from
// before the rule still replays.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import { Code, createClient, type Client } from "@connectrpc/connect";
import {
  assertInboxId,
  createPrivateKeySigner,
  createSignatureRequest,
  deriveInboxId,
  generateInstallationSecretKey,
  installationIdFromKey,
  installationMember,
  installationPublicKey,
  maxIdentityUpdates,
  maxUpdatesWithoutRecovery,
  signerIdentifier,
  type ActionRequest,
  type Identifier,
  type Signer,
} from "@parley/identity";
import { associations, encode, identityApi } from "@parley/proto";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { codeOf } from "../grpc-code.test-util.js";
import { createLogger, type DestinationStream } from "../index.js";

let time = 1_900_000_000_000_000_000n;

async function signed(inboxId: string, actions: ActionRequest[], wallets: Signer[], installations: Uint8Array[] = []): Promise<associations.IdentityUpdate> {
  const request = createSignatureRequest({ inboxId: assertInboxId(inboxId), clientTimestampNs: (time += 1_000_000n), actions });
  for (const wallet of wallets) await request.signWith(wallet);
  for (const secret of installations) request.signWithInstallationKey(secret);
  return request.toProto();
}

const memberOfKey = (secret: Uint8Array) => installationMember(installationIdFromKey(installationPublicKey(secret)));

interface Inbox {
  readonly inboxId: string;
  readonly wallet: Signer;
  readonly identifier: Identifier;
  /** The registration and the laptop's addition: the log's first two updates, both the wallet's. */
  readonly updates: associations.IdentityUpdate[];
  /** The laptop's installation key, which the thief holds. */
  readonly stolen: Uint8Array;
}

async function inbox(): Promise<Inbox> {
  const wallet = createPrivateKeySigner(randomBytes(32));
  const identifier = await signerIdentifier(wallet);
  const inboxId = deriveInboxId(identifier, 1n);
  const phone = generateInstallationSecretKey();
  const stolen = generateInstallationSecretKey();
  const register = await signed(
    inboxId,
    [
      { type: "createInbox", identifier, nonce: 1n },
      { type: "addAssociation", newMember: memberOfKey(phone), existingMember: identifier },
    ],
    [wallet],
    [phone],
  );
  const addLaptop = await signed(inboxId, [{ type: "addAssociation", newMember: memberOfKey(stolen), existingMember: identifier }], [wallet], [stolen]);
  return { inboxId, wallet, identifier, updates: [register, addLaptop], stolen };
}

/** `existing` (the stolen installation's key, or a wallet) adds a new member; one AddAssociation. */
async function adds(inboxId: string, existing: Uint8Array | Signer, newMember: Uint8Array | Signer): Promise<associations.IdentityUpdate> {
  const member = async (m: Uint8Array | Signer) => (m instanceof Uint8Array ? memberOfKey(m) : await signerIdentifier(m));
  const wallets = [existing, newMember].filter((m): m is Signer => !(m instanceof Uint8Array));
  const keys = [existing, newMember].filter((m): m is Uint8Array => m instanceof Uint8Array);
  return signed(inboxId, [{ type: "addAssociation", newMember: await member(newMember), existingMember: await member(existing) }], wallets, keys);
}

const revokes = async (owner: Inbox, secret: Uint8Array) =>
  signed(owner.inboxId, [{ type: "revokeAssociation", member: memberOfKey(secret), recoveryIdentifier: owner.identifier }], [owner.wallet]);

describe("node: the recovery reserve of an inbox's log", { timeout: 120_000 }, () => {
  let node: InProcessTestNode;
  let identity: Client<typeof identityApi.IdentityApi>;
  const entries: Record<string, unknown>[] = [];
  /** The codes of the last refusal the node logged. */
  const refusalCodes = () => entries.findLast((e) => e["msg"] === "request refused")?.["codes"];

  before(() => {
    const destination: DestinationStream = { write: (line: string) => void entries.push(JSON.parse(line) as Record<string, unknown>) };
    node = createInProcessTestNode({ logger: createLogger("debug", destination) });
    identity = createClient(identityApi.IdentityApi, node.transport);
  });
  after(() => node.stop());
  beforeEach(() => {
    entries.length = 0;
  });

  const publish = (identityUpdate: associations.IdentityUpdate) => codeOf(identity.publishIdentityUpdate({ identityUpdate }));

  it("past 240 updates only the recovery wallet's are taken: the thief's addition is refused, the revocation lands, the laptop's key is then no member's; another inbox publishes all along", async () => {
    const owner = await inbox();
    const bystander = await inbox();
    for (const update of [...owner.updates, ...bystander.updates]) assert.equal(await publish(update), undefined);

    let added = 0;
    const thiefWallets: Signer[] = [];
    for (; owner.updates.length + added < maxUpdatesWithoutRecovery; added++) {
      const wallet = createPrivateKeySigner(randomBytes(32));
      thiefWallets.push(wallet);
      assert.equal(await publish(await adds(owner.inboxId, owner.stolen, wallet)), undefined);
      // Another inbox's owner publishes meanwhile, and is served.
      if (added % 60 === 0) assert.equal(await publish(await adds(bystander.inboxId, bystander.wallet, generateInstallationSecretKey())), undefined);
    }
    assert.equal(await publish(await adds(owner.inboxId, owner.stolen, createPrivateKeySigner(randomBytes(32)))), Code.InvalidArgument);
    assert.deepEqual(refusalCodes(), ["node.invalid_argument", "identity.reserved_for_recovery"]);
    // A wallet the thief added, adding a device of the thief's: refused alike.
    const [firstThiefWallet] = thiefWallets;
    assert.ok(firstThiefWallet);
    assert.equal(await publish(await adds(owner.inboxId, firstThiefWallet, generateInstallationSecretKey())), Code.InvalidArgument);
    assert.deepEqual(refusalCodes(), ["node.invalid_argument", "identity.reserved_for_recovery"]);

    assert.equal(await publish(await revokes(owner, owner.stolen)), undefined, "the recovery wallet's revocation lands");
    assert.equal(await publish(await adds(owner.inboxId, owner.stolen, createPrivateKeySigner(randomBytes(32)))), Code.InvalidArgument);
    assert.deepEqual(refusalCodes(), ["node.invalid_argument", "identity.not_a_member"]);
    const heir = await signerIdentifier(createPrivateKeySigner(randomBytes(32)));
    const moved = await signed(owner.inboxId, [{ type: "changeRecoveryAddress", newRecoveryIdentifier: heir, recoveryIdentifier: owner.identifier }], [owner.wallet]);
    assert.equal(await publish(moved), undefined, "and the wallet still names a new recovery identifier");

    const log = await identity.getIdentityUpdates({ requests: [{ inboxId: owner.inboxId, sequenceId: 0n }] });
    assert.equal(log.responses[0]?.updates.length, maxUpdatesWithoutRecovery + 2);
    assert.equal(await publish(await adds(bystander.inboxId, bystander.wallet, generateInstallationSecretKey())), undefined);
  });

  it("a log the store held from before the rule still replays: the entries past the reserve change nothing, and the wallet's revocation lands", async () => {
    const owner = await inbox();
    const thiefWallet = createPrivateKeySigner(randomBytes(32));
    // Written straight to the store, as a node without the rule took them: the thief's wallets up to 250 updates.
    const stored = [...owner.updates, await adds(owner.inboxId, owner.stolen, thiefWallet)];
    while (stored.length < maxIdentityUpdates - 6) stored.push(await adds(owner.inboxId, owner.stolen, createPrivateKeySigner(randomBytes(32))));
    let last = 0n;
    for (const update of stored) {
      const result = await node.store.appendIdentityUpdate({
        inboxId: owner.inboxId,
        update: encode(associations.IdentityUpdateSchema, update),
        expectedLastSequenceId: last,
        maxUpdates: maxIdentityUpdates,
        addressesAdded: [],
        addressesRemoved: [],
      });
      assert.equal(result.status, "appended");
      if (result.status === "appended") last = result.record.sequenceId;
    }

    assert.equal(await publish(await adds(owner.inboxId, thiefWallet, generateInstallationSecretKey())), Code.InvalidArgument);
    assert.deepEqual(refusalCodes(), ["node.invalid_argument", "identity.reserved_for_recovery"]);
    assert.equal(await publish(await revokes(owner, owner.stolen)), undefined);
    assert.equal(await publish(await adds(owner.inboxId, owner.wallet, generateInstallationSecretKey())), undefined, "the wallet registers a new device");
  });
});
