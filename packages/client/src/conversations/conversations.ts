// client.conversations (../shared/spec/xmtp-client.md sections 2.5, 3.1, 7):
// creating groups, joining from welcomes, listing.
import { createGroup, encodeGroupState, joinFromWelcome, privateInitKey, unwrapWelcome, isMlsError } from "@parley/mls";
import { queryWelcomesAfter } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { identityAuthenticator } from "../identity/identity-lookup.js";
import { ClientError } from "../client-error.js";
import { maintainKeyPackages } from "../key-packages.js";
import { Group, type DecodedMessage } from "./group.js";
import { checkJoinedGroup } from "./membership-rules.js";
import { createAsyncStream, type AsyncStream } from "../streams/async-stream.js";
import { pushNewMessages } from "../streams/new-messages.js";
import { newDmExtensions, newGroupExtensions, type GroupMetadataOptions } from "./group-metadata.js";
import type { XmtpGroupExtensions } from "@parley/mls";
import { logRefused } from "../logging.js";
import { policySetForOptions, type GroupPermissionsOptions, type PermissionPolicySet } from "./group-permissions.js";

export interface CreateGroupOptions extends GroupMetadataOptions {
  /** Default ("All members"), AdminOnly, or CustomPolicy with `customPermissionPolicySet`. */
  readonly permissions?: GroupPermissionsOptions;
  readonly customPermissionPolicySet?: PermissionPolicySet;
}

export class Conversations {
  readonly #ctx: ClientContext;
  readonly #groups = new Map<string, Group>();

  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  #group(groupId: Uint8Array): Group {
    const id = Buffer.from(groupId).toString("hex");
    let group = this.#groups.get(id);
    if (group === undefined) {
      group = new Group(this.#ctx, groupId);
      this.#groups.set(id, group);
    }
    return group;
  }

  /**
   * Creates a group with us as its only super admin and adds the given
   * inboxes (every installation of each) in one commit.
   *
   * @throws ClientError `client.not_found`, `client.publish_failed`, `client.network`.
   */
  async createGroup(inboxIds: readonly string[], options: CreateGroupOptions = {}): Promise<Group> {
    return this.#create(newGroupExtensions(this.#ctx.inboxId, options, policySetForOptions(options)), inboxIds);
  }

  /**
   * The DM with `inboxId`: an existing one (the most recently created, as
   * the official client surfaces one of its duplicates), or a new one.
   *
   * @throws ClientError `client.usage` for our own inbox, and as createGroup.
   */
  async createDm(inboxId: string): Promise<Group> {
    if (inboxId === this.#ctx.inboxId) throw new ClientError("client.usage", "a DM with ourselves");
    const existing = this.getDmByInboxId(inboxId);
    if (existing !== undefined) return existing;
    return this.#create(newDmExtensions(this.#ctx.inboxId, inboxId), [inboxId]);
  }

  /** The newest active DM whose other member is `inboxId`. */
  getDmByInboxId(inboxId: string): Group | undefined {
    return this.listDms()
      .filter((dm) => dm.peerInboxId === inboxId && dm.isActive)
      .at(-1);
  }

  async #create(extensions: XmtpGroupExtensions, inboxIds: readonly string[]): Promise<Group> {
    const state = await createGroup({
      signer: this.#ctx.mlsSigner,
      extensions,
      authenticate: () => true,
    });
    this.#ctx.store.insertGroup({
      groupId: state.groupId,
      state: encodeGroupState(state),
      cursor: 0n,
      createdNs: this.#ctx.nowNs(),
      addedByInboxId: this.#ctx.inboxId,
    });
    const group = this.#group(state.groupId);
    await group.addMembers(inboxIds.filter((id) => id !== this.#ctx.inboxId));
    return group;
  }

  /**
   * Fetches new welcomes and joins their groups. A welcome that does not
   * open or whose members do not check out against identity state is
   * skipped; the welcome cursor advances past it either way.
   */
  async sync(): Promise<void> {
    const { store, api } = this.#ctx;
    const cursor = store.installation()?.welcomeCursor ?? 0n;
    const welcomes = await queryWelcomesAfter(api, this.#ctx.installationKey, cursor);
    let joined = false;
    for (const welcome of welcomes) {
      const v = welcome.version;
      if (v.case !== "v1") {
        if (v.value !== undefined) store.setWelcomeCursor(v.value.id);
        continue;
      }
      const w = v.value;
      try {
        const keys = store.keyPackage(w.hpkePublicKey);
        if (keys === undefined) {
          logRefused(this.#ctx.logger, "client.refused_welcome", { cursor: w.id, reason: "not wrapped to a key package of ours" });
          continue;
        }
        const opened = unwrapWelcome(w, privateInitKey(keys.privateKeyPackage));
        const { state, addedBy } = await joinFromWelcome({
          welcome: opened.welcome,
          keyPackage: keys.keyPackage,
          privateKeyPackage: keys.privateKeyPackage,
          authenticate: identityAuthenticator(api),
        });
        // Every leaf at its inbox's pinned sequence id, every installation there in the tree.
        if ((await checkJoinedGroup(api, state)) !== undefined) continue;
        joined = true;
        if (store.group(state.groupId) === undefined) {
          store.insertGroup({
            groupId: state.groupId,
            state: encodeGroupState(state),
            cursor: opened.messageCursor ?? 0n,
            createdNs: w.createdNs,
            addedByInboxId: addedBy?.inboxId ?? "",
          });
        }
      } catch (error) {
        if (!isMlsError(error)) throw error;
        logRefused(this.#ctx.logger, "client.refused_welcome", { cursor: w.id, cause: error });
      } finally {
        store.setWelcomeCursor(w.id);
      }
    }
    // A used key package is public knowledge of who joined: rotate it, as
    // libxmtp queues a rotation after consuming a welcome. The old private
    // half stays a day, for welcomes still in flight to it.
    await maintainKeyPackages(this.#ctx, { consumed: joined });
  }

  /** Welcomes, then every group's messages. */
  async syncAll(): Promise<void> {
    await this.sync();
    for (const group of this.list()) await group.sync();
  }

  /**
   * Every new message of every conversation known when the stream starts,
   * until return(). Each envelope from the node triggers an ordered sync of
   * its group; each message is yielded once. Conversations joined after the
   * start are not followed yet.
   */
  streamAllMessages(): AsyncStream<DecodedMessage> {
    return createAsyncStream<DecodedMessage>((push, signal) => {
      const followed = this.list().map((group) => ({
        groupIdBytes: group.groupIdBytes,
        cursor: this.#ctx.store.group(group.groupIdBytes)?.cursor ?? 0n,
        sync: () => group.sync(),
        messages: () => group.messages(),
      }));
      return pushNewMessages(this.#ctx.api, followed, push, signal);
    });
  }

  list(): Group[] {
    return this.#ctx.store.groups().map((row) => this.#group(row.groupId));
  }

  listGroups(): Group[] {
    return this.list().filter((g) => g.metadata().conversationType === "group");
  }

  listDms(): Group[] {
    return this.list().filter((g) => g.metadata().conversationType === "dm");
  }

  getConversationById(id: string): Group | undefined {
    const groupId = Uint8Array.from(Buffer.from(id, "hex"));
    return this.#ctx.store.group(groupId) === undefined ? undefined : this.#group(groupId);
  }
}

