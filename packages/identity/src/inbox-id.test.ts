// Inbox id derivation against libxmtp's vector and against the official
// SDK's generateInboxId (@xmtp/node-sdk 5.5.0) for random inputs.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { generateInboxId, type IdentifierKind } from "@xmtp/node-sdk";
import { toEthereumAddress } from "./ids.js";
import { deriveInboxId } from "./inbox-id.js";
import { ethereumMember } from "./member.js";

describe("deriveInboxId", () => {
  it("matches libxmtp's vector (SHA-256, nonce 0)", () => {
    const address = toEthereumAddress("0x1234567890abcdef1234567890abcdef12345678");
    assert.equal(
      deriveInboxId(ethereumMember(address), 0n),
      "fcd18d86276d7a99fe522dba9660c420f03c8648785ada7c5daae232a3df77a9",
    );
    assert.equal(deriveInboxId(address), deriveInboxId(ethereumMember(address), 0n));
  });

  it("equals the official SDK's generateInboxId for 200 random addresses and nonces", () => {
    const ethereum = 0 as IdentifierKind; // IdentifierKind.Ethereum, a const enum with no runtime value
    for (let i = 0; i < 200; i++) {
      const address = toEthereumAddress(`0x${randomBytes(20).toString("hex")}`);
      const nonce = i % 4 === 0 ? BigInt(i) : randomBytes(8).readBigUInt64BE();
      const official = generateInboxId({ identifier: address, identifierKind: ethereum }, nonce);
      assert.equal(deriveInboxId(ethereumMember(address), nonce), official, `${address} nonce ${nonce}`);
    }
  });

  it("refuses a nonce outside u64", () => {
    const member = ethereumMember(toEthereumAddress("0x1234567890abcdef1234567890abcdef12345678"));
    assert.throws(() => deriveInboxId(member, -1n), { code: "identity.invalid_identifier" });
    assert.throws(() => deriveInboxId(member, 2n ** 64n), { code: "identity.invalid_identifier" });
  });
});
