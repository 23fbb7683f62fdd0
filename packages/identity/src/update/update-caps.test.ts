// The caps on one identity update: counted before anything is verified, so
// an update packed with signatures costs its verifier nothing past the cap.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { associations, encode } from "@parley/proto";
import { isIdentityError } from "../identity-error.js";
import { deriveInboxId } from "../inbox-id.js";
import { signedUpdate, testInstallation, testWallet } from "../identity.test-util.js";
import { decodeIdentityUpdate } from "./unverified-identity-update.js";
import { maxActionsPerUpdate, maxSignaturesPerUpdate } from "./update-caps.js";
import { verifyIdentityUpdate } from "./verify-identity-update.js";

const recovery = testWallet("caps recovery");

/** Revocations of wallets, each signed by its own (bogus) 65-byte Ethereum signature, or all by one. */
function revocations(count: number, distinctSignatures: number): Uint8Array {
  const signatures = Array.from({ length: distinctSignatures }, () => randomBytes(65));
  return encode(
    associations.IdentityUpdateSchema,
    create(associations.IdentityUpdateSchema, {
      inboxId: "a".repeat(64),
      clientTimestampNs: 1_800_000_000_000_000_000n,
      actions: Array.from({ length: count }, (_, i) => ({
        kind: {
          case: "revoke" as const,
          value: {
            memberToRevoke: { kind: { case: "ethereumAddress" as const, value: `0x${randomBytes(20).toString("hex")}` } },
            recoveryIdentifierSignature: { signature: { case: "erc191" as const, value: { bytes: signatures[i % distinctSignatures]! } } },
          },
        },
      })),
    }),
  );
}

const refusedAs = (code: string) => (error: unknown) => isIdentityError(error) && error.code === code;

describe("identity update caps", () => {
  it(`decodes ${maxActionsPerUpdate} actions and refuses one more, before looking at any signature`, () => {
    assert.equal(decodeIdentityUpdate(revocations(maxActionsPerUpdate, 1)).actions.length, maxActionsPerUpdate);
    assert.throws(() => decodeIdentityUpdate(revocations(maxActionsPerUpdate + 1, 1)), refusedAs("identity.too_large"));
  });

  it(`verifies up to ${maxSignaturesPerUpdate} distinct signatures and refuses more before verifying any`, async () => {
    // Under the cap, the bogus signatures are verified (and fail); over it, none is.
    await assert.rejects(verifyIdentityUpdate(decodeIdentityUpdate(revocations(40, maxSignaturesPerUpdate))), refusedAs("identity.bad_signature"));
    await assert.rejects(verifyIdentityUpdate(decodeIdentityUpdate(revocations(40, maxSignaturesPerUpdate + 1))), refusedAs("identity.too_large"));
  });

  it("counts a signature shared by many actions once: one recovery signature revokes every installation", async () => {
    const installations = Array.from({ length: 40 }, (_, i) => testInstallation(`caps ${i}`));
    const request = await signedUpdate(
      deriveInboxId(recovery.member, 0n),
      installations.map((installation) => ({ type: "revokeAssociation" as const, member: installation.member, recoveryIdentifier: recovery.member })),
      [recovery],
    );
    const verified = await verifyIdentityUpdate(decodeIdentityUpdate(request.toBytes()));
    assert.equal(verified.actions.length, installations.length);
  });
});
