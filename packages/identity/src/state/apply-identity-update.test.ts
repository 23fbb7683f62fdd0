// The rules on verified updates built by hand, for the cases no honest
// builder produces (a member adding itself, a signature of the wrong kind),
// and the promise that applying leaves the old state as it was.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toEthereumAddress, toInstallationId } from "../ids.js";
import { deriveInboxId } from "../inbox-id.js";
import { ethereumMember, installationMember, passkeyMember, type MemberIdentifier } from "../member.js";
import type { SignatureKind, VerifiedAction, VerifiedIdentityUpdate, VerifiedSignature } from "../update/verify-identity-update.js";
import { applyIdentityUpdate } from "./apply-identity-update.js";
import { getMember } from "./association-state.js";

const wallet = ethereumMember(toEthereumAddress("0x1111111111111111111111111111111111111111"));
const other = ethereumMember(toEthereumAddress("0x2222222222222222222222222222222222222222"));
const installation = installationMember(toInstallationId("aa".repeat(32)));
const passkey = passkeyMember("02" + "bb".repeat(32), "https://example.org");

let counter = 0;
function sig(signer: MemberIdentifier, kind: SignatureKind, chainId?: bigint): VerifiedSignature {
  const replayBytes = new Uint8Array([++counter, counter >> 8]);
  return chainId === undefined ? { signer, kind, replayBytes } : { signer, kind, replayBytes, chainId };
}

/** Forged on purpose: these cases test the rules, not the signatures. */
function update(actions: VerifiedAction[], inboxId = deriveInboxId(wallet, 0n)): VerifiedIdentityUpdate {
  return { inboxId, clientTimestampNs: 5n, actions } as unknown as VerifiedIdentityUpdate;
}

const created = applyIdentityUpdate(
  undefined,
  update([{ type: "createInbox", identifier: wallet, nonce: 0n, initialIdentifierSignature: sig(wallet, "erc191") }]),
);

describe("applyIdentityUpdate", () => {
  it("refuses a signature kind that doesn't suit the member", () => {
    assert.throws(
      () =>
        applyIdentityUpdate(
          undefined,
          update([{ type: "createInbox", identifier: wallet, nonce: 0n, initialIdentifierSignature: sig(wallet, "installationKey") }]),
        ),
      { code: "identity.signature_kind_not_allowed" },
    );
    assert.throws(
      () =>
        applyIdentityUpdate(
          created,
          update([
            {
              type: "addAssociation",
              newMember: installation,
              existingMemberSignature: sig(wallet, "erc191"),
              newMemberSignature: sig(installation, "erc191"),
            },
          ]),
        ),
      { code: "identity.signature_kind_not_allowed" },
    );
  });

  it("refuses a member adding itself", () => {
    assert.throws(
      () =>
        applyIdentityUpdate(
          created,
          update([
            { type: "addAssociation", newMember: wallet, existingMemberSignature: sig(wallet, "erc191"), newMemberSignature: sig(wallet, "erc191") },
          ]),
        ),
      { code: "identity.adds_itself" },
    );
  });

  it("refuses an update that builds no inbox", () => {
    assert.throws(() => applyIdentityUpdate(undefined, update([])), { code: "identity.not_created" });
  });

  it("lets one signature serve several actions of one update, never a later one", () => {
    const shared = sig(wallet, "erc191");
    const twice = applyIdentityUpdate(
      created,
      update([
        { type: "addAssociation", newMember: installation, existingMemberSignature: shared, newMemberSignature: sig(installation, "installationKey") },
        { type: "addAssociation", newMember: other, existingMemberSignature: shared, newMemberSignature: sig(other, "erc191") },
      ]),
    );
    assert.equal(twice.members.size, 3);
    assert.throws(
      () => applyIdentityUpdate(twice, update([{ type: "revokeAssociation", member: other, recoveryIdentifierSignature: shared }])),
      { code: "identity.replayed_signature" },
    );
  });

  it("records a passkey with the relying party its signature names, and matches passkeys by key", () => {
    const withPasskey = applyIdentityUpdate(
      created,
      update([
        {
          type: "addAssociation",
          newMember: passkeyMember(passkey.key),
          existingMemberSignature: sig(wallet, "erc191"),
          newMemberSignature: sig(passkey, "p256"),
        },
      ]),
    );
    assert.deepEqual(getMember(withPasskey, passkeyMember(passkey.key))?.identifier, passkey);
    // The passkey adds an installation.
    const next = applyIdentityUpdate(
      withPasskey,
      update([
        { type: "addAssociation", newMember: installation, existingMemberSignature: sig(passkey, "p256"), newMemberSignature: sig(installation, "installationKey") },
      ]),
    );
    assert.deepEqual(getMember(next, installation)?.addedBy, passkey);
  });

  it("lets a revoked member be added again with new signatures (libxmtp's revoke_and_re_add)", () => {
    const addOther = (): VerifiedAction => ({
      type: "addAssociation",
      newMember: other,
      existingMemberSignature: sig(wallet, "erc191"),
      newMemberSignature: sig(other, "erc191"),
    });
    const removed = applyIdentityUpdate(
      created,
      update([addOther(), { type: "revokeAssociation", member: other, recoveryIdentifierSignature: sig(wallet, "erc191") }]),
    );
    assert.equal(removed.members.size, 1);
    assert.equal(applyIdentityUpdate(removed, update([addOther()])).members.size, 2);
  });

  it("binds a smart wallet to its chain for every action (libxmtp's scw_signature_binding)", () => {
    const scw = applyIdentityUpdate(
      undefined,
      update([{ type: "createInbox", identifier: wallet, nonce: 0n, initialIdentifierSignature: sig(wallet, "erc1271", 1n) }]),
    );
    assert.equal(getMember(scw, wallet)?.addedOnChainId, 1n);
    const actions: VerifiedAction[] = [
      { type: "addAssociation", newMember: installation, existingMemberSignature: sig(wallet, "erc1271", 2n), newMemberSignature: sig(installation, "installationKey") },
      { type: "revokeAssociation", member: wallet, recoveryIdentifierSignature: sig(wallet, "erc1271", 2n) },
      { type: "changeRecoveryAddress", newRecoveryIdentifier: other, recoveryIdentifierSignature: sig(wallet, "erc1271", 2n) },
    ];
    for (const action of actions) {
      assert.throws(() => applyIdentityUpdate(scw, update([action])), { code: "identity.chain_id_mismatch" }, action.type);
    }
    // The same chain passes.
    assert.ok(
      applyIdentityUpdate(scw, update([{ type: "changeRecoveryAddress", newRecoveryIdentifier: other, recoveryIdentifierSignature: sig(wallet, "erc1271", 1n) }])),
    );
  });

  it("leaves the state it was given as it was", () => {
    const before = { members: [...created.members.keys()], seen: [...created.seenSignatures], count: created.updateCount };
    applyIdentityUpdate(
      created,
      update([
        { type: "addAssociation", newMember: installation, existingMemberSignature: sig(wallet, "erc191"), newMemberSignature: sig(installation, "installationKey") },
        { type: "changeRecoveryAddress", newRecoveryIdentifier: other, recoveryIdentifierSignature: sig(wallet, "erc191") },
      ]),
    );
    assert.deepEqual({ members: [...created.members.keys()], seen: [...created.seenSignatures], count: created.updateCount }, before);
    assert.deepEqual(created.recoveryIdentifier, wallet);
    // A refused update changes nothing either.
    assert.throws(() =>
      applyIdentityUpdate(
        created,
        update([
          { type: "addAssociation", newMember: installation, existingMemberSignature: sig(wallet, "erc191"), newMemberSignature: sig(installation, "installationKey") },
          { type: "revokeAssociation", member: installation, recoveryIdentifierSignature: sig(other, "erc191") },
        ]),
      ),
    );
    assert.equal(created.members.size, 1);
  });
});
