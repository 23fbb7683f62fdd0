// One conversation (../shared/spec/xmtp-client.md sections 3.3, 3.8, 3.9):
// its MLS state lives in the local store with the cursor of the last
// envelope processed; messages are processed strictly in the node's id
// order; a commit of ours is merged only when the node's order shows it won
// its epoch, otherwise it is rebuilt on the new epoch (up to three times).
//
// Every payload we publish is recorded first (its hash, and for
// application messages the new state and the message itself), so that a
// ratchet generation is never used twice and our own envelopes, which we
// cannot decrypt, are recognised when they come back.
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  decodeGroupState,
  encodeGroupState,
  encryptMessage,
  groupExtensions,
  groupMembers,
  isMlsError,
  isRemoved,
  processMessage,
  updateGroupExtensions,
  updateMembership,
  wrapWelcome,
  type CommitResult,
  type GroupState,
} from "@parley/mls";
import { decode, encode, messageContents, mlsApi } from "@parley/proto";
import { call, groupMessageInput, queryGroupMessagesAfter } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import { contentTypeString, decodeContent, decodeEnvelope, encodeEnvelope, encodeText, messageId } from "../content/text-codec.js";
import { fetchAssociationStates, identityAuthenticator, installationKeysOf } from "../identity/identity-lookup.js";
import type { StoredMessage } from "../store/local-store.js";
import { decodeReaction, encodeReaction, type Reaction } from "../content/reaction-codec.js";
import { decodeReply, encodeReply, type Reply } from "../content/reply-codec.js";
import { contentTypeOf, toEncodedContent, type ContentTypeId, type EncodedContentInput, type SendOptions } from "../content/encoded-content.js";
import { decodeGroupUpdated, GROUP_UPDATED_TYPE, GroupMessageKind, messageKindOf, type GroupUpdated } from "../content/group-updated-codec.js";
import { commitTranscript } from "./group-transcript.js";
import { createAsyncStream, type AsyncStream } from "../streams/async-stream.js";
import { pushNewMessages } from "../streams/new-messages.js";
import {
  decodeImmutableMetadata,
  decodeMembership,
  decodeMutableMetadata,
  encodeMembership,
  encodeMutableMetadata,
  METADATA_LIMITS,
} from "./group-metadata.js";

const MAX_PUBLISH_ATTEMPTS = 3;

export interface DecodedMessage {
  readonly id: string;
  readonly conversationId: string;
  readonly senderInboxId: string;
  readonly sentAtNs: bigint;
  readonly sentAt: Date;
  /** As the official SDK: `{ authorityId, typeId, versionMajor, versionMinor }` (contentTypeToString for the string form). */
  readonly contentType: ContentTypeId;
  /** The text, the reaction, the reply, the group update, or the fallback text for a type without a codec here. */
  readonly content: string | Reaction | Reply<string | Reaction | undefined> | GroupUpdated | undefined;
  readonly fallback: string | undefined;
  /** MembershipChange for group updates, Application for everything else. */
  readonly kind: GroupMessageKind;
}

export interface ListMessagesOptions {
  readonly limit?: number;
  readonly direction?: "ascending" | "descending";
  readonly sentAfterNs?: bigint;
  readonly sentBeforeNs?: bigint;
  /** Only application messages, or only group updates. */
  readonly kind?: GroupMessageKind;
}

export interface GroupMemberInfo {
  readonly inboxId: string;
  readonly installationIds: string[];
}

/**
 * The membership rules a receiver applies to a commit (section 3.5, rules 2
 * and 3 in part): identity sequence ids only increase; every leaf's inbox is
 * in the new map; every inbox in the map has a leaf unless all its
 * installations failed. Each leaf's installation was already checked against
 * its inbox's association state by the authentication callback.
 *
 * @returns undefined when the commit passes, else the rule it breaks.
 */
export function checkMembership(before: GroupState, after: GroupState): string | undefined {
  const oldMap = decodeMembership(groupExtensions(before).membership);
  const newMap = decodeMembership(groupExtensions(after).membership);
  for (const [inboxId, seq] of newMap) {
    const old = oldMap.get(inboxId);
    if (old !== undefined && seq < old) return "sequence id decreased";
  }
  const leaves = groupMembers(after);
  for (const leaf of leaves) if (!newMap.has(leaf.inboxId)) return "a leaf of an inbox outside the membership map";
  const withLeaves = new Set<string>(leaves.map((l) => l.inboxId));
  for (const inboxId of newMap.keys()) {
    if (!withLeaves.has(inboxId) && !oldMap.has(inboxId)) return "an inbox added with no installation";
  }
  return undefined;
}

function decodeMessageContent(encoded: messageContents.EncodedContent): DecodedMessage["content"] {
  const reply = decodeReply(encoded);
  if (reply !== undefined) {
    return {
      reference: reply.reference,
      referenceInboxId: reply.referenceInboxId,
      contentType: contentTypeString(reply.inner.type),
      content: decodeReaction(reply.inner) ?? decodeContent(reply.inner),
    };
  }
  return decodeGroupUpdated(encoded) ?? decodeReaction(encoded) ?? decodeContent(encoded);
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

interface PendingCommit {
  readonly hash: Uint8Array;
  readonly baseEpoch: bigint;
  readonly result: CommitResult;
  cursor?: bigint;
}

export class Group {
  readonly #ctx: ClientContext;
  readonly #groupId: Uint8Array;
  #pending: PendingCommit | undefined;
  /** One operation at a time per group: state in, state out. */
  #queue: Promise<unknown> = Promise.resolve();

  /** @param duplicates for a DM, the other DMs with the same peer (stitched: see dm-stitching.ts). */
  constructor(ctx: ClientContext, groupId: Uint8Array, duplicates?: () => Group[]) {
    this.#ctx = ctx;
    this.#groupId = groupId.slice();
    this.#duplicates = duplicates;
  }

  readonly #duplicates: (() => Group[]) | undefined;

  /** For a DM, the other DMs with the same peer (libxmtp keeps every one of them); empty for a group. */
  duplicateDms(): Promise<Group[]> {
    return Promise.resolve(this.#duplicates?.() ?? []);
  }

  /** Hex of the MLS group id, as the official SDK's `id`. */
  get id(): string {
    return hex(this.#groupId);
  }

  get groupIdBytes(): Uint8Array {
    return this.#groupId.slice();
  }

  #row() {
    const row = this.#ctx.store.group(this.#groupId);
    if (row === undefined) throw new ClientError("client.not_found", `no group ${this.id} in the local store`);
    return row;
  }

  #state(): GroupState {
    return decodeGroupState(this.#row().state);
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  get createdAtNs(): bigint {
    return this.#row().createdNs;
  }

  get addedByInboxId(): string {
    return this.#row().addedByInboxId;
  }

  /** Whether we are still a member (false after we were removed). */
  get isActive(): boolean {
    return this.#isMember(this.#state());
  }

  #isMember(state: GroupState): boolean {
    if (isRemoved(state)) return false;
    return groupMembers(state).some((m) => Buffer.compare(m.installationKey, this.#ctx.installationKey) === 0);
  }

  get name(): string {
    return this.#attributes()["group_name"] ?? "";
  }

  get description(): string {
    return this.#attributes()["description"] ?? "";
  }

  get imageUrl(): string {
    return this.#attributes()["group_image_url_square"] ?? "";
  }

  #attributes(): Record<string, string> {
    return decodeMutableMetadata(groupExtensions(this.#state()).mutableMetadata).attributes;
  }

  listAdmins(): string[] {
    return decodeMutableMetadata(groupExtensions(this.#state()).mutableMetadata).adminList?.inboxIds ?? [];
  }

  listSuperAdmins(): string[] {
    return decodeMutableMetadata(groupExtensions(this.#state()).mutableMetadata).superAdminList?.inboxIds ?? [];
  }

  /** For a DM, the other member's inbox id (from the immutable metadata); undefined for a group. */
  get peerInboxId(): string | undefined {
    const dm = decodeImmutableMetadata(groupExtensions(this.#state()).immutableMetadata).dmMembers;
    if (dm === undefined) return undefined;
    const ids = [dm.dmMemberOne?.inboxId, dm.dmMemberTwo?.inboxId];
    return ids.find((id) => id !== undefined && id !== this.#ctx.inboxId);
  }

  /** The immutable metadata: conversation type and creator. */
  metadata(): { conversationType: "group" | "dm" | "other"; creatorInboxId: string } {
    const meta = decodeImmutableMetadata(groupExtensions(this.#state()).immutableMetadata);
    const t = meta.conversationType;
    return {
      conversationType: t === messageContents.ConversationType.GROUP ? "group" : t === messageContents.ConversationType.DM ? "dm" : "other",
      creatorInboxId: meta.creatorInboxId,
    };
  }

  /** Members by inbox, from the ratchet tree. */
  members(): Promise<GroupMemberInfo[]> {
    const byInbox = new Map<string, string[]>();
    for (const m of groupMembers(this.#state())) {
      const list = byInbox.get(m.inboxId) ?? [];
      list.push(hex(m.installationKey));
      byInbox.set(m.inboxId, list);
    }
    return Promise.resolve([...byInbox].map(([inboxId, installationIds]) => ({ inboxId, installationIds })));
  }

  /**
   * Encrypts and publishes a text, or an EncodedContent the app encoded
   * itself (as the official `send(encodedContent, opts)`); returns its
   * message id.
   *
   * @throws ClientError `client.usage` when we are no longer a member, for a
   *   malformed content type or a group update; `client.network`.
   */
  send(content: string | EncodedContentInput, options: SendOptions = {}): Promise<string> {
    let encoded: messageContents.EncodedContent;
    try {
      encoded = typeof content === "string" ? encodeText(content) : toEncodedContent(content);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#sendEncoded(encoded, options.shouldPush ?? true, options.idempotencyKey);
  }

  /** A text message (xmtp.org/text:1.0); returns its message id. */
  sendText(text: string): Promise<string> {
    return this.send(text);
  }

  /** How many messages `messages(options)` would list (without `limit`). */
  async countMessages(options: Omit<ListMessagesOptions, "limit" | "direction"> = {}): Promise<number> {
    return (await this.messages(options)).length;
  }

  /** The newest message, if any. */
  async lastMessage(): Promise<DecodedMessage | undefined> {
    return (await this.messages({ direction: "descending", limit: 1 }))[0];
  }

  /** A reaction (xmtp.org/reaction:2.0), not pushed; returns its message id. */
  sendReaction(reaction: Reaction): Promise<string> {
    return this.#sendEncoded(encodeReaction(reaction), false);
  }

  /** A text reply (xmtp.org/reply:1.0) to the message with id `reference`; returns its message id. */
  sendReply(reference: string, text: string, referenceInboxId?: string): Promise<string> {
    return this.#sendEncoded(encodeReply(reference, referenceInboxId, encodeText(text)), true);
  }

  #sendEncoded(encoded: messageContents.EncodedContent, shouldPush: boolean, key?: string): Promise<string> {
    return this.#serial(async () => {
      const encodedBytes = encode(messageContents.EncodedContentSchema, encoded);
      const sentAtNs = this.#ctx.nowNs();
      const idempotencyKey = key ?? sentAtNs.toString();
      const id = messageId(this.#groupId, idempotencyKey, encodedBytes);
      let result;
      try {
        result = await encryptMessage(this.#state(), encodeEnvelope(encodedBytes, idempotencyKey));
      } catch (error) {
        if (isMlsError(error) && error.code === "mls.usage") throw new ClientError("client.usage", "cannot send in this group", { cause: error });
        throw error;
      }
      const { store } = this.#ctx;
      const row = this.#row();
      // Written before publishing: the new ratchet state is never lost, so a
      // generation is never reused, and the message shows up exactly once.
      store.transaction(() => {
        store.updateGroup(this.#groupId, encodeGroupState(result.state), row.cursor);
        store.addOwnPayload(sha256(result.message), this.#groupId);
        store.insertMessage({
          id,
          groupId: this.#groupId,
          senderInboxId: this.#ctx.inboxId,
          sentAtNs,
          contentType: contentTypeString(encoded.type),
          encodedContent: encodedBytes,
          cursor: 0n,
        });
      });
      await call("SendGroupMessages", () =>
        this.#ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(result.message, shouldPush)] }),
      );
      return id;
    });
  }

  /** Fetches and processes everything after our cursor. */
  sync(): Promise<void> {
    return this.#serial(() => this.#sync());
  }

  async #sync(): Promise<void> {
    const { store } = this.#ctx;
    const authenticate = identityAuthenticator(this.#ctx.api);
    const envelopes = await queryGroupMessagesAfter(this.#ctx.api, this.#groupId, this.#row().cursor);
    for (const envelope of envelopes) {
      let state = this.#state();
      if (!this.#isMember(state)) {
        // Removed: nothing after our removal is ours to read. This is also
        // a guard: @parley/mls (ts-mls) still derives the next epoch for a
        // removed member today, so we must not even try.
        store.updateGroup(this.#groupId, encodeGroupState(state), envelope.id);
        continue;
      }
      const hash = sha256(envelope.data);
      const pending = this.#pending;
      if (pending !== undefined && Buffer.compare(hash, pending.hash) === 0) {
        // Our commit: it won if it is the first commit of its epoch in the
        // node's order, i.e. the state is still at the epoch it was built on.
        let transcript: StoredMessage | undefined;
        if (state.epoch === pending.baseEpoch) {
          pending.cursor = envelope.id;
          transcript = commitTranscript(this.#source(envelope), state, pending.result.state, this.#ctx.inboxId);
          state = pending.result.state;
        }
        const merged = state;
        store.transaction(() => {
          store.updateGroup(this.#groupId, encodeGroupState(merged), envelope.id);
          if (transcript !== undefined) store.insertMessage(transcript);
        });
        continue;
      }
      if (store.isOwnPayload(hash)) {
        store.updateGroup(this.#groupId, encodeGroupState(state), envelope.id);
        continue;
      }
      let message: StoredMessage | undefined;
      try {
        const result = await processMessage(state, envelope.data, authenticate);
        if (result.kind === "application") {
          state = result.state;
          message = this.#toStored(result.plaintext, result.sender?.inboxId ?? "", envelope);
        } else if (result.kind === "commit") {
          // Checked before it applies: a commit whose tree and membership
          // map disagree is skipped, and the group stays on its epoch.
          if (checkMembership(state, result.state) === undefined) {
            const removedSelf = result.removedSelf ? this.#ctx.inboxId : undefined;
            message = commitTranscript(this.#source(envelope), state, result.state, result.committer?.inboxId ?? "", removedSelf);
            state = result.state;
          }
        } else if (result.kind === "proposal") {
          state = result.state;
        }
      } catch (error) {
        // A message that does not decrypt or verify is skipped, never retried:
        // reprocessing could fork the group. Anything else is a bug.
        if (!isMlsError(error)) throw error;
      }
      store.transaction(() => {
        store.updateGroup(this.#groupId, encodeGroupState(state), envelope.id);
        if (message !== undefined) store.insertMessage(message);
      });
    }
  }

  #source(envelope: mlsApi.GroupMessage_V1) {
    return { groupId: this.#groupId, createdNs: envelope.createdNs, cursor: envelope.id };
  }

  #toStored(plaintext: Uint8Array, senderInboxId: string, envelope: mlsApi.GroupMessage_V1): StoredMessage | undefined {
    let payload;
    try {
      payload = decodeEnvelope(plaintext);
    } catch {
      return undefined;
    }
    if (payload === undefined) return undefined;
    let type: string;
    try {
      type = contentTypeString(decode(messageContents.EncodedContentSchema, payload.content).type);
    } catch {
      return undefined;
    }
    // Only commits make group updates: one arriving as a message is a forgery.
    if (type === GROUP_UPDATED_TYPE) return undefined;
    return {
      id: messageId(this.#groupId, payload.idempotencyKey, payload.content),
      groupId: this.#groupId,
      senderInboxId,
      sentAtNs: envelope.createdNs,
      contentType: type,
      encodedContent: payload.content,
      cursor: envelope.id,
    };
  }

  /**
   * New messages as they arrive, until return(). The node's subscription is
   * only a signal: each envelope triggers an ordered sync, so commits are
   * applied in id order as always, and each message is yielded once.
   *
   * @throws ClientError `client.network` from next() when the subscription fails.
   */
  stream(): AsyncStream<DecodedMessage> {
    return createAsyncStream<DecodedMessage>((push, signal) => {
      const followed = {
        groupIdBytes: this.#groupId,
        cursor: this.#row().cursor,
        sync: () => this.sync(),
        messages: () => this.messages(),
      };
      return pushNewMessages(this.#ctx.api, [followed], push, signal);
    });
  }

  /** Messages from the local store (call sync() first for new ones). */
  messages(options: ListMessagesOptions = {}): Promise<DecodedMessage[]> {
    const rows = this.#ctx.store.messages(this.#messageGroupIds(), {
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      descending: options.direction === "descending",
      ...(options.sentAfterNs === undefined ? {} : { sentAfterNs: options.sentAfterNs }),
      ...(options.sentBeforeNs === undefined ? {} : { sentBeforeNs: options.sentBeforeNs }),
      ...(options.kind === GroupMessageKind.MembershipChange ? { contentType: GROUP_UPDATED_TYPE } : {}),
      ...(options.kind === GroupMessageKind.Application ? { excludeContentType: GROUP_UPDATED_TYPE } : {}),
    });
    return Promise.resolve(rows.map((r) => this.#decoded(r)));
  }

  /** @internal a stored row of this conversation (or a duplicate), decoded. */
  decodedMessage(r: StoredMessage): DecodedMessage {
    return this.#decoded(r);
  }

  #decoded(r: StoredMessage): DecodedMessage {
    const encoded = decode(messageContents.EncodedContentSchema, r.encodedContent);
    return {
      id: r.id,
      conversationId: this.id,
      senderInboxId: r.senderInboxId,
      sentAtNs: r.sentAtNs,
      sentAt: new Date(Number(r.sentAtNs / 1_000_000n)),
      contentType: contentTypeOf(encoded.type),
      content: decodeMessageContent(encoded),
      fallback: encoded.fallback,
      kind: messageKindOf(r.contentType),
    };
  }

  /** Where this conversation's messages live: a DM reads its duplicates' too (stitched, as libxmtp reads them). */
  #messageGroupIds(): Uint8Array[] {
    return [this.#groupId, ...(this.#duplicates?.() ?? []).map((g) => g.groupIdBytes)];
  }

  /**
   * Adds every installation of the given inboxes in one commit that also
   * rewrites the membership map (0xFF01), then welcomes them.
   *
   * @throws ClientError `client.not_found` for an inbox with no identity,
   *   `client.publish_failed`, `client.network`, `client.identity`.
   */
  addMembers(inboxIds: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      if (inboxIds.length === 0) return;
      await this.#publishCommit(async (state) => {
        const current = decodeMembership(groupExtensions(state).membership);
        const inboxes = [...new Set([...current.keys(), ...inboxIds])];
        const states = await fetchAssociationStates(this.#ctx.api, inboxes);
        const inTree = new Set(groupMembers(state).map((m) => hex(m.installationKey)));
        const next = new Map(current);
        const toAdd: Uint8Array[] = [];
        for (const inboxId of inboxes) {
          const s = states.get(inboxId);
          if (s === undefined) {
            if (inboxIds.includes(inboxId)) throw new ClientError("client.not_found", `inbox ${inboxId} has no identity`);
            continue;
          }
          next.set(inboxId, s.sequenceId ?? 0n);
          for (const key of installationKeysOf(s)) if (!inTree.has(hex(key))) toAdd.push(key);
        }
        const fetched = toAdd.length === 0 ? [] : (await call("FetchKeyPackages", () =>
          this.#ctx.api.mls.fetchKeyPackages({ installationKeys: toAdd }),
        )).keyPackages;
        if (fetched.length !== toAdd.length) throw new ClientError("client.bad_response", "FetchKeyPackages returned the wrong count");
        const keyPackages: Uint8Array[] = [];
        const failed: Uint8Array[] = [];
        fetched.forEach((kp, i) => {
          if (kp.keyPackageTlsSerialized.length === 0) failed.push(toAdd[i] as Uint8Array);
          else keyPackages.push(kp.keyPackageTlsSerialized);
        });
        return updateMembership(state, {
          add: keyPackages,
          membership: encodeMembership(next, failed),
          authenticate: identityAuthenticator(this.#ctx.api),
        });
      }, async (result, cursor) => {
        if (result.welcome === undefined || result.added.length === 0) return;
        const welcome = result.welcome;
        const messages = result.added.map((kp) => {
          const wrapped = wrapWelcome(welcome, kp.initKey, cursor);
          return create(mlsApi.WelcomeMessageInputSchema, {
            version: {
              case: "v1",
              value: {
                installationKey: kp.installationKey,
                data: wrapped.data,
                hpkePublicKey: wrapped.hpkePublicKey,
                wrapperAlgorithm: wrapped.wrapperAlgorithm,
                welcomeMetadata: wrapped.welcomeMetadata,
              },
            },
          });
        });
        await call("SendWelcomeMessages", () => this.#ctx.api.mls.sendWelcomeMessages({ messages }));
      });
    });
  }

  /**
   * Removes every installation of the given inboxes in one commit that also
   * drops them from the membership map.
   *
   * @throws ClientError `client.usage` for ourselves, a super admin, or an
   *   inbox that is not a member; `client.publish_failed`, `client.network`.
   */
  removeMembers(inboxIds: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      if (inboxIds.length === 0) return;
      await this.#publishCommit(async (state) => {
        const ext = groupExtensions(state);
        const current = decodeMembership(ext.membership);
        const superAdmins = decodeMutableMetadata(ext.mutableMetadata).superAdminList?.inboxIds ?? [];
        for (const inboxId of inboxIds) {
          if (inboxId === this.#ctx.inboxId) throw new ClientError("client.usage", "removing ourselves is a leave request, not a removal");
          if (superAdmins.includes(inboxId)) throw new ClientError("client.usage", "a super admin cannot be removed");
          if (!current.has(inboxId)) throw new ClientError("client.usage", `inbox ${inboxId} is not a member`);
        }
        const next = new Map([...current].filter(([id]) => !inboxIds.includes(id)));
        const remove = groupMembers(state)
          .filter((m) => inboxIds.includes(m.inboxId))
          .map((m) => m.installationKey);
        return updateMembership(state, { remove, membership: encodeMembership(next), authenticate: identityAuthenticator(this.#ctx.api) });
      }, () => Promise.resolve());
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
    return this.#serial(() =>
      this.#publishCommit(async (state) => {
        const meta = decodeMutableMetadata(groupExtensions(state).mutableMetadata);
        meta.attributes[key] = value;
        return updateGroupExtensions(state, { mutableMetadata: encodeMutableMetadata(meta) }, identityAuthenticator(this.#ctx.api));
      }, () => Promise.resolve()),
    );
  }

  /**
   * Builds a commit on the current epoch, publishes it, and syncs: merged if
   * it came first in the node's order, rebuilt on the new epoch if not.
   */
  async #publishCommit(
    build: (state: GroupState) => Promise<CommitResult>,
    afterCommit: (result: CommitResult, cursor: bigint) => Promise<void>,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt += 1) {
      await this.#sync();
      const state = this.#state();
      const result = await build(state);
      const pending: PendingCommit = { hash: sha256(result.commit), baseEpoch: state.epoch, result };
      this.#ctx.store.addOwnPayload(pending.hash, this.#groupId);
      this.#pending = pending;
      try {
        await call("SendGroupMessages", () =>
          this.#ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(result.commit, false)] }),
        );
        await this.#sync();
      } finally {
        this.#pending = undefined;
      }
      if (pending.cursor !== undefined) {
        await afterCommit(result, pending.cursor);
        return;
      }
    }
    throw new ClientError("client.publish_failed", `a commit lost its epoch ${MAX_PUBLISH_ATTEMPTS} times`);
  }
}
