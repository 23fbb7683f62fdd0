// Fixtures for this package's tests: installations with XMTP-shaped key
// packages, and a group's extension payloads. Never part of the product.
import { createHash } from "node:crypto";
import { encode, messageContents } from "@parley/proto";
import type { AuthenticateMember } from "./authentication.js";
import { ed25519Keygen } from "./crypto/signature.js";
import { createKeyPackage, type KeyPackageBundle } from "./key-package.js";
import { asInboxId, type InboxId } from "./xmtp/credential.js";
import type { XmtpGroupExtensions } from "./xmtp/group-extensions.js";

export interface TestInstallation {
  readonly inboxId: InboxId;
  readonly privateKey: Uint8Array;
  readonly bundle: KeyPackageBundle;
}

export async function installation(name: string): Promise<TestInstallation> {
  // Shaped like a real inbox id (the hex of a SHA-256), distinct per name.
  const inboxId = asInboxId(createHash("sha256").update(name).digest("hex"));
  const { signKey } = ed25519Keygen();
  return { inboxId, privateKey: signKey, bundle: await createKeyPackage({ inboxId, privateKey: signKey }) };
}

export const allowAll: AuthenticateMember = () => true;

export function membership(members: Record<string, bigint>): Uint8Array {
  return encode(messageContents.GroupMembershipSchema, {
    $typeName: "xmtp.mls.message_contents.GroupMembership",
    members,
    failedInstallations: [],
  });
}

export function groupExtensionsFor(creator: InboxId): XmtpGroupExtensions {
  return {
    immutableMetadata: encode(messageContents.GroupMetadataV1Schema, {
      $typeName: "xmtp.mls.message_contents.GroupMetadataV1",
      conversationType: messageContents.ConversationType.GROUP,
      creatorAccountAddress: "",
      creatorInboxId: creator,
    }),
    mutableMetadata: encode(messageContents.GroupMutableMetadataV1Schema, {
      $typeName: "xmtp.mls.message_contents.GroupMutableMetadataV1",
      attributes: { group_name: "" },
    }),
    membership: membership({ [creator]: 0n }),
    permissions: new Uint8Array(0),
  };
}
