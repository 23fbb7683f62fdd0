// XMTP's group context extensions (xmtp-client.md 1.2, 1.4, 1.5). The
// payloads are protobufs the client builds (@parley/proto); here they are
// framed and placed: 0xF000 ImmutableMetadata is OpenMLS `Metadata{Vec<u8>}`,
// i.e. a varint length then the GroupMetadataV1 bytes; 0xFF00/0xFF01/0xFF02
// are the raw protobuf bytes; RequiredCapabilities as in `profile.ts`.
import type { GroupContextExtension } from "ts-mls";
import { makeCustomExtension } from "../engine/ts-mls.js";
import { decodeVarint, vector } from "../tls.js";
import { MlsError } from "../mls-error.js";
import { ExtensionId, xmtpRequiredCapabilities } from "./profile.js";

/** The protobuf payloads of XMTP's group context extensions. */
export interface XmtpGroupExtensions {
  /** `xmtp.mls.message_contents.GroupMetadataV1` (never changes after creation). */
  readonly immutableMetadata: Uint8Array;
  /** `GroupMutableMetadataV1`. */
  readonly mutableMetadata: Uint8Array;
  /** `GroupMembership` (inbox id -> identity sequence id). */
  readonly membership: Uint8Array;
  /** `GroupMutablePermissionsV1`. */
  readonly permissions: Uint8Array;
}

/** The mutable payloads a GroupContextExtensions commit may rewrite. */
export type XmtpExtensionChanges = Partial<Pick<XmtpGroupExtensions, "mutableMetadata" | "membership" | "permissions">>;

function custom(extensionType: number, extensionData: Uint8Array): GroupContextExtension {
  return makeCustomExtension({ extensionType, extensionData });
}

/** The full extension list of a new group, in libxmtp's order. */
export function buildGroupContextExtensions(ext: XmtpGroupExtensions): GroupContextExtension[] {
  return [
    custom(ExtensionId.immutableMetadata, vector(ext.immutableMetadata)),
    custom(ExtensionId.mutableMetadata, ext.mutableMetadata),
    custom(ExtensionId.groupMembership, ext.membership),
    custom(ExtensionId.groupPermissions, ext.permissions),
    { extensionType: ExtensionId.requiredCapabilities, extensionData: xmtpRequiredCapabilities() },
  ];
}

const CHANGE_IDS: Record<keyof XmtpExtensionChanges, number> = {
  mutableMetadata: ExtensionId.mutableMetadata,
  membership: ExtensionId.groupMembership,
  permissions: ExtensionId.groupPermissions,
};

/** The current list with the given payloads replaced in place (others untouched). */
export function replaceExtensions(
  current: readonly GroupContextExtension[],
  changes: XmtpExtensionChanges,
): GroupContextExtension[] {
  const byId = new Map<number, Uint8Array>();
  for (const [key, id] of Object.entries(CHANGE_IDS) as [keyof XmtpExtensionChanges, number][]) {
    const value = changes[key];
    if (value !== undefined) byId.set(id, value);
  }
  const out = current.map((e) => {
    const replacement = byId.get(e.extensionType);
    if (replacement === undefined) return e;
    byId.delete(e.extensionType);
    return custom(e.extensionType, replacement);
  });
  for (const [id, data] of byId) out.push(custom(id, data));
  return out;
}

/**
 * Reads XMTP's payloads out of a group context.
 *
 * @throws MlsError `mls.invalid` when one is missing or 0xF000 is badly framed.
 */
export function readGroupExtensions(extensions: readonly GroupContextExtension[]): XmtpGroupExtensions {
  const get = (id: number): Uint8Array => {
    const e = extensions.find((x) => x.extensionType === id);
    if (e === undefined || !(e.extensionData instanceof Uint8Array)) {
      throw new MlsError("mls.invalid", `group context lacks extension 0x${id.toString(16)}`);
    }
    return e.extensionData;
  };
  const framed = get(ExtensionId.immutableMetadata);
  const header = decodeVarint(framed, 0);
  if (header === undefined || header[1] + header[0] !== framed.length) {
    throw new MlsError("mls.invalid", "ImmutableMetadata is not a length-prefixed payload");
  }
  return {
    immutableMetadata: framed.subarray(header[1]),
    mutableMetadata: get(ExtensionId.mutableMetadata),
    membership: get(ExtensionId.groupMembership),
    permissions: get(ExtensionId.groupPermissions),
  };
}
