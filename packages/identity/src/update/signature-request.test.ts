// Building and signing identity updates: signer slots, the official SDK's
// signer shape, and what the builder refuses to produce.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestWallet, officialSigner } from "@parley/testkit";
import { toEthereumAddress } from "../ids.js";
import { deriveInboxId } from "../inbox-id.js";
import { ethereumMember } from "../member.js";
import { testInstallation, testWallet } from "../identity.test-util.js";
import { validateIdentityUpdate } from "../state/replay-inbox.js";
import { createSignatureRequest } from "./signature-request.js";
import type { Signer } from "./signer.js";

const alice = testWallet("alice");
const bob = testWallet("bob");
const phone = testInstallation("phone");

describe("createSignatureRequest", () => {
  it("asks each signer once, and builds only when every signature is in", async () => {
    const inboxId = deriveInboxId(alice.member, 3n);
    const request = createSignatureRequest({
      inboxId,
      clientTimestampNs: 1n,
      actions: [
        { type: "createInbox", identifier: alice.member, nonce: 3n },
        { type: "addAssociation", newMember: phone.member, existingMember: alice.member },
      ],
    });
    assert.deepEqual(request.missingSigners(), [alice.member, phone.member]);
    assert.throws(() => request.toProto(), { code: "identity.bad_request" });
    request.signWithInstallationKey(phone.secretKey);
    assert.deepEqual(request.missingSigners(), [alice.member]);
    await request.signWith(alice.signer);
    assert.deepEqual(request.missingSigners(), []);
    const result = await validateIdentityUpdate(undefined, request.toBytes());
    assert.ok(result.ok);
    assert.deepEqual(result.value.diff.newMembers, [alice.member, phone.member]);
  });

  it("takes a signer written for the official SDK", async () => {
    const wallet = createTestWallet();
    const signer: Signer = officialSigner(wallet);
    const member = ethereumMember(toEthereumAddress(wallet.address));
    const request = createSignatureRequest({
      inboxId: deriveInboxId(member, 1n),
      clientTimestampNs: 1n,
      actions: [{ type: "createInbox", identifier: member, nonce: 1n }],
    });
    await request.signWith(signer);
    assert.deepEqual(wallet.signedTexts, [request.text]);
    assert.ok((await validateIdentityUpdate(undefined, request.toBytes())).ok);
  });

  it("refuses signatures it didn't ask for, or by another wallet than claimed", async () => {
    const request = createSignatureRequest({
      inboxId: deriveInboxId(alice.member),
      clientTimestampNs: 1n,
      actions: [{ type: "createInbox", identifier: alice.member, nonce: 0n }],
    });
    await assert.rejects(request.signWith(bob.signer), { code: "identity.bad_request" });
    const impostor: Signer = { ...bob.signer, getIdentifier: alice.signer.getIdentifier };
    await assert.rejects(request.signWith(impostor), { code: "identity.bad_request" });
    assert.throws(() => request.signWithInstallationKey(phone.secretKey), { code: "identity.bad_request" });
    assert.throws(() => createSignatureRequest({ inboxId: deriveInboxId(alice.member), clientTimestampNs: 1n, actions: [] }), {
      code: "identity.bad_request",
    });
  });
});
