// One vocabulary: the inbox id and installation types that @parley/mls and
// @parley/identity export are the very types of @parley/proto, so a value
// made by one package is taken by another without a cast. The type checker
// runs this file (`npm run typecheck`): a second, incompatible brand in
// either package fails it there; the runtime half passes an identity-made
// inbox id through an MLS key package and back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  deriveInboxId,
  ethereumMember,
  installationIdFromKey,
  installationMember,
  toEthereumAddress,
  type InboxId as IdentityInboxId,
  type InstallationId as IdentityInstallationId,
  type InstallationKey as IdentityInstallationKey,
} from "@parley/identity";
import {
  createKeyPackage,
  ed25519Keygen,
  validateKeyPackage,
  type InboxId as MlsInboxId,
  type InstallationKey as MlsInstallationKey,
} from "@parley/mls";
import type { InboxId, InstallationId, InstallationKey } from "@parley/proto";

/** True only when A and B are the same type (not merely assignable one way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const sameTypes: [
  Same<MlsInboxId, IdentityInboxId>,
  Same<MlsInboxId, InboxId>,
  Same<MlsInstallationKey, IdentityInstallationKey>,
  Same<MlsInstallationKey, InstallationKey>,
  Same<IdentityInstallationId, InstallationId>,
] = [true, true, true, true, true];

// A bare string or byte array is none of them, and the key is not its hex id.
// @ts-expect-error a string is not an inbox id until checked
const unchecked: InboxId = "ab".repeat(32);
// @ts-expect-error bytes are not an installation key until checked
const uncheckedKey: InstallationKey = new Uint8Array(32);
// @ts-expect-error an installation id (hex) is not an installation key (bytes)
const crossed: InstallationKey = "ab".repeat(32) as InstallationId;

describe("shared ids", () => {
  it("are one set of types across packages", () => {
    assert.deepEqual(sameTypes, [true, true, true, true, true]);
    assert.equal(typeof unchecked + typeof uncheckedKey + typeof crossed, "stringobjectstring");
  });

  it("pass from identity to mls and back without a cast", async () => {
    const wallet = ethereumMember(toEthereumAddress(`0x${"12".repeat(20)}`));
    const inboxId: IdentityInboxId = deriveInboxId(wallet, 1n);
    const { signKey } = ed25519Keygen();
    const bundle = await createKeyPackage({ inboxId, privateKey: signKey });
    const validated = await validateKeyPackage(bundle.keyPackage);
    const backInIdentity: IdentityInboxId = validated.inboxId;
    assert.equal(backInIdentity, inboxId);
    const key: IdentityInstallationKey = validated.installationKey;
    const member = installationMember(installationIdFromKey(key));
    assert.equal(member.key, Buffer.from(bundle.installationKey).toString("hex"));
  });
});
