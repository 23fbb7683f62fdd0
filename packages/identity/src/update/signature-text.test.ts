// The signature text against libxmtp's own vector (unsigned_actions.rs).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toEthereumAddress, type InstallationId } from "../ids.js";
import { deriveInboxId } from "../inbox-id.js";
import { ethereumMember, installationMember, passkeyMember } from "../member.js";
import { formatTimestamp, signatureText } from "./signature-text.js";

describe("signatureText", () => {
  it("reproduces libxmtp's vector byte for byte", () => {
    const owner = ethereumMember(toEthereumAddress("0x1234567890abcdef1234567890abcdef12345678"));
    const added = ethereumMember(toEthereumAddress("0x4567890abcdef1234567890abcdef12345678123"));
    const recovery = ethereumMember(toEthereumAddress("0x7890abcdef1234567890abcdef12345678123456"));
    // libxmtp's vector uses a 3-byte installation id; the text doesn't care.
    const installation = installationMember("010203" as InstallationId);
    const text = signatureText({
      inboxId: deriveInboxId(owner, 0n),
      clientTimestampNs: 12n,
      actions: [
        { type: "createInbox", identifier: owner, nonce: 0n },
        { type: "addAssociation", newMember: added },
        { type: "addAssociation", newMember: installation },
        { type: "revokeAssociation", member: added },
        { type: "revokeAssociation", member: installation },
        { type: "changeRecoveryAddress", newRecoveryIdentifier: recovery },
      ],
    });
    assert.equal(
      text,
      [
        "XMTP : Authenticate to inbox",
        "",
        "Inbox ID: fcd18d86276d7a99fe522dba9660c420f03c8648785ada7c5daae232a3df77a9",
        "Current time: 1970-01-01T00:00:00Z",
        "",
        "- Create inbox",
        "  (Owner: 0x1234567890abcdef1234567890abcdef12345678)",
        "- Link address to inbox",
        "  (Address: 0x4567890abcdef1234567890abcdef12345678123)",
        "- Grant messaging access to app",
        "  (ID: 010203)",
        "- Unlink address from inbox",
        "  (Address: 0x4567890abcdef1234567890abcdef12345678123)",
        "- Revoke messaging access from app",
        "  (ID: 010203)",
        "- Change inbox recovery address",
        "  (Address: 0x7890abcdef1234567890abcdef12345678123456)",
        "",
        "For more info: https://xmtp.org/signatures",
      ].join("\n"),
    );
  });

  it("writes passkeys with their own phrases, and 'Address' for a passkey recovery", () => {
    const passkey = passkeyMember("02abcd");
    const text = signatureText({
      inboxId: "x",
      clientTimestampNs: 0n,
      actions: [
        { type: "addAssociation", newMember: passkey },
        { type: "revokeAssociation", member: passkey },
        { type: "changeRecoveryAddress", newRecoveryIdentifier: passkey },
      ],
    });
    assert.match(text, /- Link passkey to inbox\n {2}\(Passkey: 02abcd\)\n- Unlink passkey from inbox\n {2}\(Passkey: 02abcd\)\n- Change inbox recovery address\n {2}\(Address: 02abcd\)/);
  });
});

describe("formatTimestamp", () => {
  it("drops the sub-second part", () => {
    assert.equal(formatTimestamp(1_795_713_515_376_926_557n), "2026-11-26T17:18:35Z");
    assert.equal(formatTimestamp(999_999_999n), "1970-01-01T00:00:00Z");
  });

  it("wraps u64 values of 2^63 and above to negative times, as libxmtp's i64 cast does", () => {
    assert.equal(formatTimestamp(2n ** 64n - 1n), "1969-12-31T23:59:59Z");
    assert.equal(formatTimestamp(2n ** 63n), "1677-09-21T00:12:43Z");
    assert.equal(formatTimestamp(2n ** 63n - 1n), "2262-04-11T23:47:16Z");
  });
});
