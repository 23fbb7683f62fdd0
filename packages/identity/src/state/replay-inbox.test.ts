// The association rules end to end: signed updates built with the public
// builder, validated and replayed as the node and the client do.
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, it } from "node:test";
import { associations, decode } from "@parley/proto";
import type { IdentityErrorCode } from "../identity-error.js";
import { deriveInboxId } from "../inbox-id.js";
import type { InboxId } from "../ids.js";
import {
  registration,
  signedUpdate,
  testInstallation,
  testWallet,
  type TestSigner,
} from "../identity.test-util.js";
import type { ActionRequest } from "../update/signature-request.js";
import type { SmartContractWalletVerifier } from "../update/verifiers.js";
import { getMember, isMember, listInstallations, listIdentifiers, type AssociationState } from "./association-state.js";
import { maxIdentityUpdates } from "./recovery-reserve.js";
import { replayInbox, validateIdentityUpdate, type ValidateOptions } from "./replay-inbox.js";

const alice = testWallet("alice");
const bob = testWallet("bob");
const carol = testWallet("carol");
const phone = testInstallation("phone");
const laptop = testInstallation("laptop");
const tablet = testInstallation("tablet");

let clock = 1_800_000_000_000_000_000n;
/** A fresh time per update, so that each text and signature is new. */
const tick = () => (clock += 1_000_000_000n);

async function publish(
  state: AssociationState | undefined,
  bytes: Uint8Array,
  sequenceId: bigint,
  options: ValidateOptions = {},
): Promise<AssociationState> {
  const result = await validateIdentityUpdate(state, bytes, { ...options, sequenceId });
  if (!result.ok) assert.fail(`refused: ${result.error.code} ${result.error.message}`);
  return result.value.state;
}

async function refusal(
  state: AssociationState | undefined,
  bytes: Uint8Array | associations.IdentityUpdate,
  options: ValidateOptions & { readonly sequenceId?: bigint } = {},
): Promise<IdentityErrorCode> {
  const result = await validateIdentityUpdate(state, bytes, options);
  assert.equal(result.ok, false, "expected a refusal");
  return result.ok ? assert.fail() : result.error.code;
}

async function update(inboxId: InboxId, actions: ActionRequest[], signers: TestSigner[]): Promise<Uint8Array> {
  return (await signedUpdate(inboxId, actions, signers, tick())).toBytes();
}

async function aliceInbox(): Promise<{ inboxId: InboxId; state: AssociationState; bytes: Uint8Array }> {
  const { inboxId, bytes } = await registration(alice, phone);
  return { inboxId, bytes, state: await publish(undefined, bytes, 10n) };
}

describe("association state", () => {
  it("registers an inbox: the wallet owns and recovers it, the installation is a member", async () => {
    const { inboxId, state } = await aliceInbox();
    assert.equal(state.inboxId, inboxId);
    assert.deepEqual(state.recoveryIdentifier, alice.member);
    assert.deepEqual(
      listIdentifiers(state).map((m) => m.identifier),
      [alice.member],
    );
    const [installation] = listInstallations(state);
    assert.deepEqual(installation?.identifier, phone.member);
    assert.deepEqual(installation?.addedBy, alice.member);
    assert.equal(installation?.sequenceId, 10n);
    assert.equal(getMember(state, alice.member)?.sequenceId, 10n);
    assert.equal(state.updateCount, 1);
  });

  it("adds wallets and installations, revokes with children, changes recovery", async () => {
    const { inboxId, state: s1, bytes: created } = await aliceInbox();
    const addBob = await update(inboxId, [{ type: "addAssociation", newMember: bob.member, existingMember: alice.member }], [alice, bob]);
    const s2 = await publish(s1, addBob, 20n);
    // A wallet adds an installation, an installation adds a wallet.
    const bobLaptop = await update(inboxId, [{ type: "addAssociation", newMember: laptop.member, existingMember: bob.member }], [bob, laptop]);
    const s3 = await publish(s2, bobLaptop, 30n);
    const laptopCarol = await update(inboxId, [{ type: "addAssociation", newMember: carol.member, existingMember: laptop.member }], [laptop, carol]);
    const s4 = await publish(s3, laptopCarol, 40n);
    assert.equal(getMember(s4, carol.member)?.sequenceId, 40n);
    assert.deepEqual(getMember(s4, carol.member)?.addedBy, laptop.member);

    // Revoking bob takes the installation he added, not what that installation added.
    const revokeBob = await update(inboxId, [{ type: "revokeAssociation", member: bob.member, recoveryIdentifier: alice.member }], [alice]);
    const s5 = await publish(s4, revokeBob, 50n);
    assert.equal(isMember(s5, bob.member), false);
    assert.equal(isMember(s5, laptop.member), false);
    assert.equal(isMember(s5, carol.member), true);
    assert.equal(isMember(s5, phone.member), true);

    // The recovery identifier need not be a member, and may still add members.
    const toBob = await update(inboxId, [{ type: "changeRecoveryAddress", newRecoveryIdentifier: bob.member, recoveryIdentifier: alice.member }], [alice]);
    const s6 = await publish(s5, toBob, 60n);
    assert.deepEqual(s6.recoveryIdentifier, bob.member);
    const bobTablet = await update(inboxId, [{ type: "addAssociation", newMember: tablet.member, existingMember: bob.member }], [bob, tablet]);
    const s7 = await publish(s6, bobTablet, 70n);
    assert.deepEqual(getMember(s7, tablet.member)?.addedBy, bob.member);
    // Alice is no longer the recovery identifier.
    const aliceRevokes = await update(inboxId, [{ type: "revokeAssociation", member: tablet.member, recoveryIdentifier: alice.member }], [alice]);
    assert.equal(await refusal(s7, aliceRevokes), "identity.not_recovery_identifier");

    // The whole log replays to the same state; the old states stay as they were.
    const replayed = await replayInbox(
      [created, addBob, bobLaptop, laptopCarol, revokeBob, toBob, bobTablet].map((update, i) => ({
        sequenceId: BigInt((i + 1) * 10),
        update,
      })),
    );
    assert.ok(replayed.ok);
    assert.deepEqual([...replayed.value.members.keys()].sort(), [...s7.members.keys()].sort());
    assert.equal(replayed.value.sequenceId, 70n);
    assert.equal(isMember(s4, bob.member), true);
  });
});

describe("refusals", () => {
  it("a forged wallet signature", async () => {
    const inboxId = deriveInboxId(alice.member, 0n);
    const request = await signedUpdate(inboxId, [{ type: "createInbox", identifier: alice.member, nonce: 0n }], [alice]);
    const proto = request.toProto();
    const create = proto.actions[0]?.kind;
    assert.ok(create?.case === "createInbox" && create.value.initialIdentifierSignature?.signature.case === "erc191");
    // Signed by another wallet: recovers bob, not alice.
    create.value.initialIdentifierSignature.signature.value.bytes = await bob.signer.signMessage(request.text);
    assert.equal(await refusal(undefined, proto), "identity.bad_signature");
    // A changed byte: recovers nobody, or somebody else.
    const tampered = (await alice.signer.signMessage(request.text)).slice();
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    create.value.initialIdentifierSignature.signature.value.bytes = tampered;
    assert.equal(await refusal(undefined, proto), "identity.bad_signature");
    create.value.initialIdentifierSignature.signature.value.bytes = new Uint8Array(64);
    assert.equal(await refusal(undefined, proto), "identity.bad_signature");
  });

  it("a forged installation signature", async () => {
    const inboxId = deriveInboxId(alice.member, 0n);
    const request = await signedUpdate(
      inboxId,
      [
        { type: "createInbox", identifier: alice.member, nonce: 0n },
        { type: "addAssociation", newMember: phone.member, existingMember: alice.member },
      ],
      [alice, phone],
    );
    const proto = request.toProto();
    const add = proto.actions[1]?.kind;
    assert.ok(add?.case === "add" && add.value.newMemberSignature?.signature.case === "installationKey");
    const signature = add.value.newMemberSignature.signature.value;
    signature.bytes = signature.bytes.slice();
    signature.bytes[5] = (signature.bytes[5] ?? 0) ^ 0x40;
    assert.equal(await refusal(undefined, proto), "identity.bad_signature");
  });

  it("an installation signature by another key than the one it names", async () => {
    const inboxId = deriveInboxId(alice.member, 0n);
    const request = await signedUpdate(
      inboxId,
      [
        { type: "createInbox", identifier: alice.member, nonce: 0n },
        { type: "addAssociation", newMember: phone.member, existingMember: alice.member },
      ],
      [alice, phone],
    );
    const proto = request.toProto();
    const add = proto.actions[1]?.kind;
    assert.ok(add?.case === "add" && add.value.newMemberSignature?.signature.case === "installationKey");
    // A valid signature by the laptop, presented for the phone's identifier.
    const other = await signedUpdate(inboxId, [{ type: "createInbox", identifier: alice.member, nonce: 0n }, { type: "addAssociation", newMember: laptop.member, existingMember: alice.member }], [alice, laptop]);
    const laptopAdd = other.toProto().actions[1]?.kind;
    assert.ok(laptopAdd?.case === "add");
    add.value.newMemberSignature = laptopAdd.value.newMemberSignature;
    assert.equal(await refusal(undefined, proto), "identity.bad_signature");
  });

  it("a wrong inbox id", async () => {
    // Built for nonce 0 but claiming the nonce-1 inbox.
    const request = await signedUpdate(deriveInboxId(alice.member, 1n), [{ type: "createInbox", identifier: alice.member, nonce: 0n }], [alice]);
    assert.equal(await refusal(undefined, request.toBytes()), "identity.wrong_inbox_id");
    // A valid update of bob's inbox appended to alice's.
    const { state } = await aliceInbox();
    const bobInbox = deriveInboxId(bob.member, 0n);
    const bobsOwn = await update(bobInbox, [{ type: "createInbox", identifier: bob.member, nonce: 0n }], [bob]);
    const bobState = await publish(undefined, bobsOwn, 1n);
    const bobAdds = await update(bobInbox, [{ type: "addAssociation", newMember: laptop.member, existingMember: bob.member }], [bob, laptop]);
    assert.ok((await validateIdentityUpdate(bobState, bobAdds)).ok);
    assert.equal(await refusal(state, bobAdds), "identity.not_a_member");
    const aliceAddsForBob = await update(bobInbox, [{ type: "addAssociation", newMember: laptop.member, existingMember: alice.member }], [alice, laptop]);
    assert.equal(await refusal(state, aliceAddsForBob), "identity.wrong_inbox_id");
  });

  it("a replayed update", async () => {
    const { inboxId, state } = await aliceInbox();
    const addBob = await update(inboxId, [{ type: "addAssociation", newMember: bob.member, existingMember: alice.member }], [alice, bob]);
    const after = await publish(state, addBob, 20n);
    assert.equal(await refusal(after, addBob), "identity.replayed_signature");
    // The same signatures with v rewritten from 27/28 to 0/1 are still the same signatures.
    const rewritten = decode(associations.IdentityUpdateSchema, addBob);
    const add = rewritten.actions[0]?.kind;
    assert.ok(add?.case === "add");
    for (const signature of [add.value.existingMemberSignature, add.value.newMemberSignature]) {
      assert.ok(signature?.signature.case === "erc191");
      const bytes = signature.signature.value.bytes.slice();
      bytes[64] = (bytes[64] ?? 27) - 27;
      signature.signature.value.bytes = bytes;
    }
    assert.equal(await refusal(after, rewritten), "identity.replayed_signature");
    // Even after bob is gone, his old addition can't be replayed to bring him back.
    const revoke = await update(inboxId, [{ type: "revokeAssociation", member: bob.member, recoveryIdentifier: alice.member }], [alice]);
    const revoked = await publish(after, revoke, 30n);
    assert.equal(await refusal(revoked, addBob), "identity.replayed_signature");
    assert.equal(await refusal(revoked, revoke), "identity.replayed_signature");
  });

  it("a second CreateInbox, and actions before any", async () => {
    const { inboxId, state, bytes } = await aliceInbox();
    assert.equal(await refusal(state, bytes), "identity.already_created");
    const addBob = await update(inboxId, [{ type: "addAssociation", newMember: bob.member, existingMember: alice.member }], [alice, bob]);
    assert.equal(await refusal(undefined, addBob), "identity.not_created");
  });

  it("a revocation not signed by the recovery identifier", async () => {
    const { inboxId, state } = await aliceInbox();
    const addBob = await update(inboxId, [{ type: "addAssociation", newMember: bob.member, existingMember: alice.member }], [alice, bob]);
    const withBob = await publish(state, addBob, 20n);
    const bobRevokes = await update(inboxId, [{ type: "revokeAssociation", member: phone.member, recoveryIdentifier: bob.member }], [bob]);
    assert.equal(await refusal(withBob, bobRevokes), "identity.not_recovery_identifier");
    const bobRecovers = await update(inboxId, [{ type: "changeRecoveryAddress", newRecoveryIdentifier: bob.member, recoveryIdentifier: bob.member }], [bob]);
    assert.equal(await refusal(withBob, bobRecovers), "identity.not_recovery_identifier");
  });

  it("an installation adding an installation", async () => {
    const { inboxId, state } = await aliceInbox();
    const phoneAddsLaptop = await update(inboxId, [{ type: "addAssociation", newMember: laptop.member, existingMember: phone.member }], [phone, laptop]);
    assert.equal(await refusal(state, phoneAddsLaptop), "identity.installation_adds_installation");
  });

  it("a signer that is neither a member nor the recovery identifier", async () => {
    const { inboxId, state } = await aliceInbox();
    const strangerAdds = await update(inboxId, [{ type: "addAssociation", newMember: laptop.member, existingMember: carol.member }], [carol, laptop]);
    assert.equal(await refusal(state, strangerAdds), "identity.not_a_member");
  });

  it("an unknown action", async () => {
    // IdentityUpdate { actions: [IdentityAction { field 9: 1 }], inbox_id: "x" }
    const bytes = new Uint8Array([0x0a, 0x02, 0x48, 0x01, 0x1a, 0x01, 0x78]);
    assert.equal(await refusal(undefined, bytes), "identity.unknown_action");
  });

  it("a truncated protobuf", async () => {
    const { bytes } = await registration(alice, phone);
    for (const cut of [1, 7, 70, bytes.length - 1]) {
      assert.equal(await refusal(undefined, bytes.subarray(0, cut)), "identity.malformed", `cut at ${cut}`);
    }
  });

  it("a smart-contract-wallet signature with no verifier, and with one", async () => {
    const scw = {
      type: "SCW" as const,
      getIdentifier: () => ({ identifier: carol.member.address, identifierKind: 0 as const }),
      // A contract wallet signs however it likes; the verifier is the judge.
      signMessage: (text: string) => sha256(utf8ToBytes(text)),
      getChainId: () => 8453n,
      getBlockNumber: () => 42n,
    };
    const inboxId = deriveInboxId(carol.member, 0n);
    const request = await signedUpdate(
      inboxId,
      [
        { type: "createInbox", identifier: carol.member, nonce: 0n },
        { type: "addAssociation", newMember: phone.member, existingMember: carol.member },
      ],
      [phone],
    );
    await request.signWith(scw);
    assert.equal(await refusal(undefined, request.toBytes()), "identity.unsupported_signature");

    const seen: bigint[] = [];
    const accepting: SmartContractWalletVerifier = {
      verify: (r) => {
        seen.push(r.chainId, r.blockNumber);
        return Promise.resolve({ isValid: true });
      },
    };
    const state = await publish(undefined, request.toBytes(), 1n, { verifiers: { smartContractWallet: accepting } });
    assert.equal(getMember(state, carol.member)?.addedOnChainId, 8453n);
    assert.deepEqual(seen.slice(0, 2), [8453n, 42n]);

    const rejecting: SmartContractWalletVerifier = { verify: () => Promise.resolve({ isValid: false }) };
    assert.equal(await refusal(undefined, request.toBytes(), { verifiers: { smartContractWallet: rejecting } }), "identity.bad_signature");
    const down: SmartContractWalletVerifier = { verify: () => Promise.reject(new Error("rpc down")) };
    assert.equal(await refusal(undefined, request.toBytes(), { verifiers: { smartContractWallet: down } }), "identity.verifier_unavailable");

    // The same wallet signing from another chain.
    const otherChain = await signedUpdate(inboxId, [{ type: "addAssociation", newMember: laptop.member, existingMember: carol.member }], [laptop], tick());
    await otherChain.signWith({ ...scw, getChainId: () => 1n });
    assert.equal(
      await refusal(state, otherChain.toBytes(), { verifiers: { smartContractWallet: accepting } }),
      "identity.chain_id_mismatch",
    );
  });

  it("the 256-update limit, and out-of-order entries", async () => {
    const { inboxId, bytes } = await registration(alice, phone);
    const entries = [{ sequenceId: 1n, update: bytes }];
    for (let i = 1; i < maxIdentityUpdates; i++) {
      entries.push({
        sequenceId: BigInt(i + 1),
        update: await update(inboxId, [{ type: "changeRecoveryAddress", newRecoveryIdentifier: alice.member, recoveryIdentifier: alice.member }], [alice]),
      });
    }
    const full = await replayInbox(entries);
    assert.ok(full.ok);
    assert.equal(full.value.updateCount, maxIdentityUpdates);
    const one = await update(inboxId, [{ type: "changeRecoveryAddress", newRecoveryIdentifier: alice.member, recoveryIdentifier: alice.member }], [alice]);
    assert.equal(await refusal(full.value, one), "identity.log_full");
    const tooMany = await replayInbox([...entries, { sequenceId: 999n, update: one }]);
    assert.equal(tooMany.ok ? undefined : tooMany.error.code, "identity.log_full");

    const swapped = [entries[0], entries[2], entries[1]].filter((e) => e !== undefined);
    const outOfOrder = await replayInbox(swapped);
    assert.equal(outOfOrder.ok ? undefined : outOfOrder.error.code, "identity.out_of_order");
    const registered = await publish(undefined, bytes, 5n);
    assert.equal(await refusal(registered, one, { sequenceId: 5n }), "identity.out_of_order");
  });
});
