// Agreement with the official client (@xmtp/node-sdk 5.5.0): the text it
// hands a wallet equals the text our builder writes for the same actions,
// and the identity update it publishes validates with our code and replays
// to the same inbox, wallet and installation. Once from the captured
// fixtures of @parley/proto, once live against the capture server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { associations, decode, encode, identityApi } from "@parley/proto";
import { officialRegistration, startCaptureServer, type CaptureServer } from "@parley/testkit";
import { ApiUrls, Client, type Signer as OfficialSigner } from "@xmtp/node-sdk";
import { testWallet } from "./identity.test-util.js";
import { toEthereumAddress, toInstallationId, type InboxId } from "./ids.js";
import { deriveInboxId } from "./inbox-id.js";
import { ethereumMember, installationMember, memberText, type EthereumMember, type MemberIdentifier } from "./member.js";
import { listIdentifiers, listInstallations } from "./state/association-state.js";
import { replayInbox } from "./state/replay-inbox.js";
import { createSignatureRequest, type ActionRequest } from "./update/signature-request.js";
import type { Signer } from "./update/signer.js";

function publishedUpdate(requestBytes: Uint8Array) {
  const update = decode(identityApi.PublishIdentityUpdateRequestSchema, requestBytes).identityUpdate;
  assert.ok(update, "PublishIdentityUpdate carries an update");
  return update;
}

/** Our text for the registration the official client makes: CreateInbox, then its installation. */
function ourRegistrationText(inboxId: InboxId, clientTimestampNs: bigint, wallet: EthereumMember, nonce: bigint, installationId: string) {
  return createSignatureRequest({
    inboxId,
    clientTimestampNs,
    actions: [
      { type: "createInbox", identifier: wallet, nonce },
      { type: "addAssociation", newMember: installationMember(toInstallationId(installationId)), existingMember: wallet },
    ],
  }).text;
}

/** The signatures of a published action, each with the signer our request expects it from. */
function signaturesOf(
  action: ActionRequest,
  published: associations.IdentityAction | undefined,
): [MemberIdentifier, associations.Signature][] {
  const kind = published?.kind;
  const pairs: [MemberIdentifier, associations.Signature | undefined][] =
    action.type === "createInbox" && kind?.case === "createInbox"
      ? [[action.identifier, kind.value.initialIdentifierSignature]]
      : action.type === "addAssociation" && kind?.case === "add"
        ? [
            [action.existingMember, kind.value.existingMemberSignature],
            [action.newMember, kind.value.newMemberSignature],
          ]
        : action.type === "revokeAssociation" && kind?.case === "revoke"
          ? [[action.recoveryIdentifier, kind.value.recoveryIdentifierSignature]]
          : action.type === "changeRecoveryAddress" && kind?.case === "changeRecoveryAddress"
            ? [[action.recoveryIdentifier, kind.value.existingRecoveryIdentifierSignature]]
            : assert.fail(`published action ${kind?.case} is not a ${action.type}`);
  return pairs.map(([signer, signature]) => {
    assert.ok(signature, "a published action carries its signatures");
    return [signer, signature];
  });
}

async function assertReplaysTo(update: ReturnType<typeof publishedUpdate>, inboxId: string, wallet: EthereumMember, installationId: string) {
  const replayed = await replayInbox([{ sequenceId: 1n, update }]);
  if (!replayed.ok) assert.fail(`refused: ${replayed.error.code} ${replayed.error.message}`);
  const state = replayed.value;
  assert.equal(state.inboxId, inboxId);
  assert.deepEqual(state.recoveryIdentifier, wallet);
  assert.deepEqual(listIdentifiers(state).map((m) => m.identifier), [wallet]);
  assert.deepEqual(listInstallations(state).map((m) => m.identifier.key), [installationId]);
}

describe("the official client's captured registration", () => {
  const captured = officialRegistration();
  const update = publishedUpdate(captured.request("PublishIdentityUpdate"));
  const wallet = ethereumMember(toEthereumAddress(captured.walletAddress));

  it("signs the text our builder writes for the same actions", () => {
    // The SDK's default nonce is 1; the inbox id says which nonce was used.
    assert.equal(deriveInboxId(wallet, 1n), captured.inboxId);
    const ours = ourRegistrationText(deriveInboxId(wallet, 1n), update.clientTimestampNs, wallet, 1n, captured.installationId);
    assert.deepEqual(captured.signedTexts, [ours]);
  });

  it("is the update our builder encodes from the same actions and signatures, byte for byte", () => {
    const [create, add] = update.actions.map((a) => a.kind);
    assert.ok(create?.case === "createInbox" && add?.case === "add");
    const walletSignature = create.value.initialIdentifierSignature;
    const installationSignature = add.value.newMemberSignature;
    assert.ok(walletSignature && installationSignature);
    const installation = installationMember(toInstallationId(captured.installationId));
    const request = createSignatureRequest({
      inboxId: deriveInboxId(wallet, 1n),
      clientTimestampNs: update.clientTimestampNs,
      actions: [
        { type: "createInbox", identifier: wallet, nonce: 1n },
        { type: "addAssociation", newMember: installation, existingMember: wallet },
      ],
    });
    request.addSignature(wallet, walletSignature);
    request.addSignature(installation, installationSignature);
    assert.deepEqual(request.toBytes(), encode(associations.IdentityUpdateSchema, update));
  });

  it("validates with our code and replays to the same inbox, wallet and installation", async () => {
    await assertReplaysTo(update, captured.inboxId, wallet, captured.installationId);
  });
});

describe("the official client, live against the capture server", () => {
  let server: CaptureServer;
  let originalLocal: string | undefined;
  before(async () => {
    server = await startCaptureServer(0);
    originalLocal = (ApiUrls as Record<string, string>).local;
    (ApiUrls as Record<string, string>).local = server.url;
  });
  after(async () => {
    if (originalLocal !== undefined) (ApiUrls as Record<string, string>).local = originalLocal;
    await server.close();
  });

  it("registers with our signer; we sign the same text and accept what it publishes", async () => {
    // Our private-key signer, recording what it is asked to sign, handed to the official client.
    const alice = testWallet(`live ${Date.now()}`);
    const signedTexts: string[] = [];
    const recording: Signer = {
      ...alice.signer,
      signMessage: (text) => {
        signedTexts.push(text);
        return alice.signer.signMessage(text);
      },
    };
    // Assignable as it is: the two signer shapes are the same.
    const official: OfficialSigner = recording;
    const client = await Client.create(official, {
      env: "local",
      dbPath: null,
      disableDeviceSync: true,
      loggingLevel: "Off" as never,
    });
    const call = server.calls.find((c) => c.path.endsWith("/PublishIdentityUpdate"));
    assert.ok(call, "the client published its registration");
    const update = publishedUpdate(call.request);

    assert.equal(client.inboxId, deriveInboxId(alice.member, 1n));
    const ours = ourRegistrationText(deriveInboxId(alice.member, 1n), update.clientTimestampNs, alice.member, 1n, client.installationId);
    assert.deepEqual(signedTexts, [ours]);
    await assertReplaysTo(update, client.inboxId, alice.member, client.installationId);
  });

  it("adds a wallet, revokes an installation, changes recovery: same texts, same bytes, same state as libxmtp's", async () => {
    const signedTexts: string[] = [];
    const recording = (label: string) => {
      const wallet = testWallet(`${label} ${Date.now()}`);
      const signer: Signer = {
        ...wallet.signer,
        signMessage: (text) => {
          signedTexts.push(text);
          return wallet.signer.signMessage(text);
        },
      };
      return { ...wallet, signer };
    };
    const alice = recording("alice");
    const bob = recording("bob");
    const options = { env: "local" as const, dbPath: null, disableDeviceSync: true, loggingLevel: "Off" as never };
    const first = server.calls.length;

    const laptop = await Client.create(alice.signer, options);
    const phone = await Client.create(alice.signer, options);
    // The capture server answers GetInboxIds loosely, hence allowInboxReassign.
    await laptop.unsafe_addAccount(bob.signer, true);
    await laptop.revokeInstallations([phone.installationIdBytes]);
    await laptop.changeRecoveryIdentifier({ identifier: bob.member.address, identifierKind: 0 /* Ethereum */ });

    const published = server.calls
      .slice(first)
      .filter((c) => c.path.endsWith("/PublishIdentityUpdate"))
      .map((c) => publishedUpdate(c.request));
    assert.equal(published.length, 5);
    const inboxId = deriveInboxId(alice.member, 1n);
    const installation = (client: Client) => installationMember(toInstallationId(client.installationId));
    const expected: ActionRequest[][] = [
      [
        { type: "createInbox", identifier: alice.member, nonce: 1n },
        { type: "addAssociation", newMember: installation(laptop), existingMember: alice.member },
      ],
      [{ type: "addAssociation", newMember: installation(phone), existingMember: alice.member }],
      // The installation signs for the inbox; the new wallet signs for itself.
      [{ type: "addAssociation", newMember: bob.member, existingMember: installation(laptop) }],
      [{ type: "revokeAssociation", member: installation(phone), recoveryIdentifier: alice.member }],
      [{ type: "changeRecoveryAddress", newRecoveryIdentifier: bob.member, recoveryIdentifier: alice.member }],
    ];
    const ourTexts = expected.map(
      (actions, i) => createSignatureRequest({ inboxId, clientTimestampNs: published[i]?.clientTimestampNs ?? 0n, actions }).text,
    );
    assert.deepEqual(signedTexts, ourTexts);
    // And our builder, given the same signatures, encodes each update byte for byte.
    for (const [i, actions] of expected.entries()) {
      const update = published[i];
      assert.ok(update);
      const request = createSignatureRequest({ inboxId, clientTimestampNs: update.clientTimestampNs, actions });
      for (const [j, action] of actions.entries()) {
        for (const [signer, signature] of signaturesOf(action, update.actions[j])) request.addSignature(signer, signature);
      }
      assert.deepEqual(request.toBytes(), encode(associations.IdentityUpdateSchema, update), `update ${i + 1}`);
    }

    const replayed = await replayInbox(published.map((update, i) => ({ sequenceId: BigInt(i + 1), update })));
    if (!replayed.ok) assert.fail(`refused: ${replayed.error.code} ${replayed.error.message}`);
    const ours = replayed.value;
    const theirs = await laptop.preferences.fetchInboxState();
    assert.equal(ours.inboxId, theirs.inboxId);
    assert.deepEqual(ours.recoveryIdentifier, ethereumMember(toEthereumAddress(theirs.recoveryIdentifier.identifier)));
    assert.deepEqual(
      listIdentifiers(ours).map((m) => memberText(m.identifier)),
      theirs.identifiers.map((i) => i.identifier),
    );
    assert.deepEqual(
      listInstallations(ours).map((m) => [m.identifier.key, m.clientTimestampNs]),
      theirs.installations.map((i) => [i.id, i.clientTimestampNs]),
    );
  });
});
