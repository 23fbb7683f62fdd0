// Admin and super-admin list changes (../shared/spec/xmtp-client.md sections
// 1.5 and 3.7): one add or one remove per commit, written into 0xFF00's
// admin_list / super_admin_list. Whether we may make the change is decided
// afterwards by the same permission rules receivers apply.
import { ClientError } from "../client-error.js";
import { decodeMembership, decodeMutableMetadata, encodeMutableMetadata } from "./group-metadata.js";
import type { XmtpGroupExtensions } from "@parley/mls";

export type AdminListChange = "addAdmin" | "removeAdmin" | "addSuperAdmin" | "removeSuperAdmin";

/**
 * The new 0xFF00 payload after one admin-list change.
 *
 * @throws ClientError `client.usage` when the inbox is not a member (for an
 *   add), already holds the role, or does not hold it (for a remove).
 */
export function changeAdminList(ext: XmtpGroupExtensions, change: AdminListChange, inboxId: string): Uint8Array {
  const meta = decodeMutableMetadata(ext.mutableMetadata);
  const superAdmins = change === "addSuperAdmin" || change === "removeSuperAdmin";
  const list = superAdmins ? (meta.superAdminList?.inboxIds ?? []) : (meta.adminList?.inboxIds ?? []);
  const adding = change === "addAdmin" || change === "addSuperAdmin";
  if (adding) {
    if (!decodeMembership(ext.membership).has(inboxId)) throw new ClientError("client.usage", `inbox ${inboxId} is not a member`);
    if (list.includes(inboxId)) throw new ClientError("client.usage", `inbox ${inboxId} already has this role`);
  } else if (!list.includes(inboxId)) {
    throw new ClientError("client.usage", `inbox ${inboxId} does not have this role`);
  }
  const next = adding ? [...list, inboxId] : list.filter((id) => id !== inboxId);
  if (superAdmins) meta.superAdminList = { $typeName: "xmtp.mls.message_contents.Inboxes", inboxIds: next };
  else meta.adminList = { $typeName: "xmtp.mls.message_contents.Inboxes", inboxIds: next };
  return encodeMutableMetadata(meta);
}
