// Passkeys: base64url against RFC 4648's vectors, and an inbox created and
// extended by a passkey whose WebAuthn assertions are made here with P-256.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { associations } from "@parley/proto";
import { deriveInboxId } from "../inbox-id.js";
import { passkeyMember } from "../member.js";
import { testInstallation } from "../identity.test-util.js";
import { getMember } from "../state/association-state.js";
import { validateIdentityUpdate } from "../state/replay-inbox.js";
import { createSignatureRequest } from "../update/signature-request.js";
import { base64UrlNoPad, createPasskeyVerifier } from "./passkey.js";

const secretKey = sha256(utf8ToBytes("passkey"));
const publicKey = p256.getPublicKey(secretKey, false);
const key = passkeyMember(bytesToHex(publicKey));
const verifiers = { passkey: createPasskeyVerifier() };

function assertion(text: string, options: { challenge?: string; highS?: boolean } = {}): associations.Signature {
  const authenticatorData = new Uint8Array(37).fill(5);
  const clientDataJson = utf8ToBytes(
    JSON.stringify({ type: "webauthn.get", challenge: options.challenge ?? base64UrlNoPad(utf8ToBytes(text)), origin: "https://app.example" }),
  );
  let signature = p256.Signature.fromBytes(p256.sign(concatBytes(authenticatorData, sha256(clientDataJson)), secretKey), "compact");
  if (options.highS) signature = new p256.Signature(signature.r, p256.Point.CURVE().n - signature.s);
  return create(associations.SignatureSchema, {
    signature: {
      case: "passkey",
      value: { publicKey, signature: signature.toBytes("der"), authenticatorData, clientDataJson },
    },
  });
}

describe("base64UrlNoPad", () => {
  it("encodes RFC 4648's vectors", () => {
    const vectors = { "": "", f: "Zg", fo: "Zm8", foo: "Zm9v", foob: "Zm9vYg", fooba: "Zm9vYmE", foobar: "Zm9vYmFy" };
    for (const [input, output] of Object.entries(vectors)) assert.equal(base64UrlNoPad(utf8ToBytes(input)), output);
    const bytes = new Uint8Array([0xfb, 0xff, 0xfe, 0x3e]);
    assert.equal(base64UrlNoPad(bytes), Buffer.from(bytes).toString("base64url"));
  });
});

describe("a passkey inbox", () => {
  const phone = testInstallation("passkey phone");
  const inboxId = deriveInboxId(key, 0n);

  function registration(signature: (text: string) => associations.Signature) {
    const request = createSignatureRequest({
      inboxId,
      clientTimestampNs: 7n,
      actions: [
        { type: "createInbox", identifier: key, nonce: 0n },
        { type: "addAssociation", newMember: phone.member, existingMember: key },
      ],
    });
    request.addSignature(key, signature(request.text));
    request.signWithInstallationKey(phone.secretKey);
    return request.toBytes();
  }

  it("is created by the passkey, which adds an installation", async () => {
    const result = await validateIdentityUpdate(undefined, registration((text) => assertion(text)), { verifiers });
    if (!result.ok) assert.fail(result.error.code);
    const state = result.value.state;
    assert.equal(state.inboxId, inboxId);
    assert.deepEqual(state.recoveryIdentifier, key);
    assert.deepEqual(getMember(state, phone.member)?.addedBy, key);
    assert.equal(getMember(state, key)?.identifier.kind, "passkey");
  });

  it("refuses an assertion over another challenge, and a high-S twin as a replay", async () => {
    const wrong = await validateIdentityUpdate(undefined, registration(() => assertion("", { challenge: "abc" })), { verifiers });
    assert.equal(wrong.ok ? undefined : wrong.error.code, "identity.bad_signature");

    const first = await validateIdentityUpdate(undefined, registration((text) => assertion(text)), { verifiers });
    assert.ok(first.ok);
    const recover = (highS: boolean) => {
      const request = createSignatureRequest({
        inboxId,
        clientTimestampNs: 8n,
        actions: [{ type: "changeRecoveryAddress", newRecoveryIdentifier: key, recoveryIdentifier: key }],
      });
      request.addSignature(key, assertion(request.text, { highS }));
      return request.toBytes();
    };
    const changed = await validateIdentityUpdate(first.value.state, recover(false), { verifiers });
    assert.ok(changed.ok);
    const twin = await validateIdentityUpdate(changed.value.state, recover(true), { verifiers });
    assert.equal(twin.ok ? undefined : twin.error.code, "identity.replayed_signature");
  });
});
