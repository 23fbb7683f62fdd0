// Signature kinds this package can't check alone: refused without a
// verifier, trusted to a plugged-in one; and the shapes they must have.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { PasskeyVerifier } from "./verifiers.js";
import { verifySignature } from "./verify-identity-update.js";

const passkeySignature = {
  kind: "passkey" as const,
  publicKey: new Uint8Array([4, ...new Uint8Array(64).fill(7)]),
  signature: new Uint8Array([0x30, 1, 2]),
  authenticatorData: new Uint8Array([1]),
  clientDataJson: new TextEncoder().encode("{}"),
};

describe("verifySignature", () => {
  it("refuses a passkey signature without a verifier", async () => {
    await assert.rejects(verifySignature(passkeySignature, "text"), { code: "identity.unsupported_signature" });
  });

  it("takes a passkey's signer and relying party from the verifier", async () => {
    const texts: string[] = [];
    const passkey: PasskeyVerifier = {
      verify: (request) => {
        texts.push(request.text);
        return Promise.resolve({ isValid: true, relyingParty: "https://example.org" });
      },
    };
    const verified = await verifySignature(passkeySignature, "text", { verifiers: { passkey } });
    assert.deepEqual(texts, ["text"]);
    assert.deepEqual(verified.signer, {
      kind: "passkey",
      key: bytesToHex(passkeySignature.publicKey),
      relyingParty: "https://example.org",
    });
    assert.equal(verified.kind, "p256");
    const refusing: PasskeyVerifier = { verify: () => Promise.resolve({ isValid: false }) };
    await assert.rejects(verifySignature(passkeySignature, "text", { verifiers: { passkey: refusing } }), {
      code: "identity.bad_signature",
    });
  });

  it("refuses legacy delegated signatures", async () => {
    await assert.rejects(verifySignature({ kind: "legacyDelegated" }, "text"), { code: "identity.unsupported_signature" });
  });

  it("refuses a smart-wallet account id that is not CAIP-10 eip155", async () => {
    const smartContractWallet = { verify: () => Promise.resolve({ isValid: true }) };
    for (const accountId of ["eip155:1:0x12", "cosmos:1:0x1111111111111111111111111111111111111111", "eip155:x:0x1111111111111111111111111111111111111111"]) {
      await assert.rejects(
        verifySignature({ kind: "erc6492", accountId, blockNumber: 0n, signature: new Uint8Array(1) }, "text", {
          verifiers: { smartContractWallet },
        }),
        { code: "identity.malformed" },
        accountId,
      );
    }
    // A checksummed address is read lowercase, as libxmtp sanitizes it.
    const verified = await verifySignature(
      { kind: "erc6492", accountId: "eip155:8453:0xAbCdEf0000000000000000000000000000000001", blockNumber: 0n, signature: new Uint8Array(1) },
      "text",
      { verifiers: { smartContractWallet } },
    );
    assert.deepEqual(verified.signer, { kind: "ethereum", address: "0xabcdef0000000000000000000000000000000001" });
    assert.equal(verified.chainId, 8453n);
  });
});
