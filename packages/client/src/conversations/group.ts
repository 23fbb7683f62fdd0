// A group, as the official SDK's `Group` (../shared/spec/xmtp-client.md
// 3.3, 3.4, 3.6, 3.7 and section 7): what a conversation has, plus its
// name, description and image, its members' changes, its admins and its
// permission policies. Every change is one commit, published as an intent
// (intent-runner.ts).
import { groupExtensions, MAX_GROUP_INBOXES } from "@parley/mls";
import { ClientError } from "../client-error.js";
import type { AdminListChange } from "./admin-lists.js";
import { Conversation } from "./conversation.js";
import {
  groupPermissionsOf,
  type GroupPermissions,
  type MetadataField,
  type PermissionPolicy,
  type PermissionUpdateType,
} from "./group-permissions.js";
import { decodeMembership, decodeMutableMetadata, METADATA_LIMITS } from "./group-metadata.js";
import { decodePolicySet } from "./permissions.js";
import { inboxIdsInput } from "../identity/inbox-id-input.js";

export class Group extends Conversation {
  get name(): string {
    return this.#attributes()["group_name"] ?? "";
  }

  get description(): string {
    return this.#attributes()["description"] ?? "";
  }

  get imageUrl(): string {
    return this.#attributes()["group_image_url_square"] ?? "";
  }

  #mutableMetadata() {
    return decodeMutableMetadata(groupExtensions(this.core.state()).mutableMetadata);
  }

  #attributes(): Record<string, string> {
    return this.#mutableMetadata().attributes;
  }

  listAdmins(): string[] {
    return this.#mutableMetadata().adminList?.inboxIds ?? [];
  }

  listSuperAdmins(): string[] {
    return this.#mutableMetadata().superAdminList?.inboxIds ?? [];
  }

  isAdmin(inboxId: string): boolean {
    return this.listAdmins().includes(inboxId);
  }

  isSuperAdmin(inboxId: string): boolean {
    return this.listSuperAdmins().includes(inboxId);
  }

  /**
   * Adds every installation of the given inboxes in one commit that also
   * re-pins every member inbox in the membership map (0xFF01), then
   * welcomes them.
   *
   * @throws ClientError `client.not_found` for an inbox with no identity or
   *   no key package, `client.publish_failed`, `client.network`, `client.identity`.
   */
  addMembers(inboxIds: readonly string[]): Promise<void> {
    return this.core.serial(async () => {
      const members = inboxIdsInput(inboxIds);
      if (members.length === 0) return;
      const current = decodeMembership(groupExtensions(this.core.state()).membership);
      if (new Set([...current.keys(), ...members]).size > MAX_GROUP_INBOXES) {
        throw new ClientError("client.usage", `a group holds at most ${MAX_GROUP_INBOXES} inboxes`);
      }
      await this.core.publishCommit({ kind: "membership", params: { addInboxes: members } });
    });
  }

  /**
   * Removes every installation of the given inboxes in one commit that also
   * drops them from the membership map.
   *
   * @throws ClientError `client.usage` for ourselves, a super admin, or an
   *   inbox that is not a member; `client.publish_failed`, `client.network`.
   */
  removeMembers(given: readonly string[]): Promise<void> {
    return this.core.serial(async () => {
      const inboxIds = inboxIdsInput(given);
      if (inboxIds.length === 0) return;
      const ext = groupExtensions(this.core.state());
      const current = decodeMembership(ext.membership);
      const superAdmins = decodeMutableMetadata(ext.mutableMetadata).superAdminList?.inboxIds ?? [];
      for (const inboxId of inboxIds) {
        if (inboxId === this.core.ctx.inboxId) throw new ClientError("client.usage", "removing ourselves is a leave request, not a removal");
        if (superAdmins.includes(inboxId)) throw new ClientError("client.usage", "a super admin cannot be removed");
        if (!current.has(inboxId)) throw new ClientError("client.usage", `inbox ${inboxId} is not a member`);
      }
      await this.core.publishCommit({ kind: "membership", params: { removeInboxes: inboxIds } });
    });
  }

  /** @throws ClientError `client.usage` past 100 bytes; as every commit. */
  updateName(name: string): Promise<void> {
    return this.#updateAttribute("group_name", name);
  }

  /** @throws ClientError `client.usage` past 1000 bytes; as every commit. */
  updateDescription(description: string): Promise<void> {
    return this.#updateAttribute("description", description);
  }

  /** @throws ClientError `client.usage` past 2048 bytes; as every commit. */
  updateImageUrl(imageUrl: string): Promise<void> {
    return this.#updateAttribute("group_image_url_square", imageUrl);
  }

  /** One attribute, one commit with one GroupContextExtensions proposal (section 3.7). */
  #updateAttribute(key: keyof typeof METADATA_LIMITS, value: string): Promise<void> {
    if (Buffer.byteLength(value, "utf8") > METADATA_LIMITS[key]) {
      return Promise.reject(new ClientError("client.usage", `${key} is longer than ${METADATA_LIMITS[key]} bytes`));
    }
    return this.core.serial(() => this.core.publishCommit({ kind: "metadata", params: { key, value } }));
  }

  /** The group's permission policies as the official SDK shows them. */
  permissions(): GroupPermissions {
    const policies = decodePolicySet(groupExtensions(this.core.state()).permissions);
    if (policies === undefined) throw new ClientError("client.bad_store", "the group's permission policies do not decode");
    return groupPermissionsOf(policies);
  }

  /**
   * Changes one policy slot in one commit (super admins only).
   *
   * @throws ClientError `client.usage` for a policy the slot cannot hold,
   *   `client.permission_denied`; as every commit.
   */
  updatePermission(type: PermissionUpdateType, policy: PermissionPolicy, metadataField?: MetadataField): Promise<void> {
    const params = metadataField === undefined ? { type, policy } : { type, policy, metadataField };
    return this.core.serial(() => this.core.publishCommit({ kind: "permission", params }));
  }

  /** @throws ClientError `client.usage` for a non-member or an admin; `client.permission_denied`; as every commit. */
  addAdmin(inboxId: string): Promise<void> {
    return this.#changeAdmins("addAdmin", inboxId);
  }

  /** @throws ClientError `client.usage` for an inbox that is not an admin; `client.permission_denied`; as every commit. */
  removeAdmin(inboxId: string): Promise<void> {
    return this.#changeAdmins("removeAdmin", inboxId);
  }

  /** @throws ClientError `client.usage` for a non-member or a super admin; `client.permission_denied`; as every commit. */
  addSuperAdmin(inboxId: string): Promise<void> {
    return this.#changeAdmins("addSuperAdmin", inboxId);
  }

  /** @throws ClientError `client.usage` for an inbox that is not a super admin; `client.permission_denied` (also for the last one); as every commit. */
  removeSuperAdmin(inboxId: string): Promise<void> {
    return this.#changeAdmins("removeSuperAdmin", inboxId);
  }

  #changeAdmins(change: AdminListChange, inboxId: string): Promise<void> {
    return this.core.serial(() => this.core.publishCommit({ kind: "admins", params: { change, inboxId } }));
  }
}
