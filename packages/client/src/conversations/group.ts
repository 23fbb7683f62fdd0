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
import {
  decodeGroupState,
  encodeGroupState,
  encryptMessage,
  groupExtensions,
  groupMembers,
  isMlsError,
  isRemoved,
  MAX_PAST_EPOCHS,
  processMessage,
  type GroupState,
} from "@parley/mls";
import { decode, encode, isProtoError, messageContents, type mlsApi } from "@parley/proto";
import { decodeIncomingPayload } from "../content/incoming-payload.js";
import { logRefused, refusalCodeOfMlsError } from "../logging.js";
import type { AdminListChange } from "./admin-lists.js";
import { assertOwnCommitAllowed, validateCommit } from "./commit-validation.js";
import {
  groupPermissionsOf,
  type GroupPermissions,
  type MetadataField,
  type PermissionPolicy,
  type PermissionUpdateType,
} from "./group-permissions.js";
import { decodePolicySet } from "./permissions.js";
import { call, groupMessageInput, queryGroupMessagesAfter } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError, isClientError } from "../client-error.js";
import { contentTypeString, decodeContent, encodeEnvelope, encodeText, messageId } from "../content/text-codec.js";
import { identityAuthenticator } from "../identity/identity-lookup.js";
import type { MessageIntent } from "../store/intent-record.js";
import type { IntentRow, StoredMessage } from "../store/local-store.js";
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
  METADATA_LIMITS,
} from "./group-metadata.js";
import { isNewerVersion, requiredVersionAboveOurs } from "./protocol-version.js";
import { buildIntentCommit, intentSpecOf, recipientsOf, sendIntentWelcomes, type IntentSpec } from "./commit-intents.js";
import { checkMembership, membershipContextFor } from "./membership-rules.js";
import {
  SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS,
  SYNC_UPDATE_INSTALLATIONS_INTERVAL_NS,
} from "./membership-update.js";

const MAX_PUBLISH_ATTEMPTS = 3;
/** libxmtp GROUP_KEY_ROTATION_INTERVAL_NS: 30 days. */
export const GROUP_KEY_ROTATION_INTERVAL_NS = 30n * 24n * 3600n * 1_000_000_000n;

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

export class Group {
  readonly #ctx: ClientContext;
  readonly #groupId: Uint8Array;
  /** Our clock's time of the last membership check; none yet in this process. */
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

  /**
   * The protocol version a commit of the group requires above ours: the
   * group is paused before that commit until a client that implements it
   * (section 3.5 rule 7), as the official SDK's `pausedForVersion()`.
   */
  pausedForVersion(): string | undefined {
    return this.#ctx.store.pausedForVersion(this.#groupId);
  }

  #assertNotPaused(): void {
    const version = this.pausedForVersion();
    if (version !== undefined && isNewerVersion(version)) {
      throw new ClientError("client.usage", `the group is paused until a client that supports protocol version ${version}`);
    }
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
      this.#assertNotPaused();
      // What an earlier run left unfinished goes first (a key update among them).
      if (this.#ctx.store.hasUnfinishedIntents(this.#groupId)) {
        await this.#sync();
        await this.#resumeIntents();
      }
      await this.#maybeUpdateInstallations(SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS);
      await this.#maybeUpdateKeys();
      const encodedBytes = encode(messageContents.EncodedContentSchema, encoded);
      const sentAtNs = this.#ctx.nowNs();
      const idempotencyKey = key ?? sentAtNs.toString();
      const id = messageId(this.#groupId, idempotencyKey, encodedBytes);
      const before = this.#state();
      let result;
      try {
        result = await encryptMessage(before, encodeEnvelope(encodedBytes, idempotencyKey));
      } catch (error) {
        if (isMlsError(error) && error.code === "mls.usage") throw new ClientError("client.usage", "cannot send in this group", { cause: error });
        throw error;
      }
      const { store } = this.#ctx;
      const row = this.#row();
      // Written before publishing: the new ratchet state is never lost, so a
      // generation is never reused, and the message shows up exactly once.
      const hash = sha256(result.message);
      const epoch = before.epoch;
      const intentId = store.transaction(() => {
        store.updateGroup(this.#groupId, encodeGroupState(result.state), row.cursor);
        store.addOwnPayload(hash, this.#groupId);
        store.insertMessage({
          id,
          groupId: this.#groupId,
          senderInboxId: this.#ctx.inboxId,
          sentAtNs,
          contentType: contentTypeString(encoded.type),
          encodedContent: encodedBytes,
          cursor: 0n,
        });
        // A SendMessage intent: if publishing fails, the next sync publishes
        // it again (section 3.8).
        return store.insertIntent({
          groupId: this.#groupId,
          operation: { kind: "message", params: { encodedContent: encodedBytes, idempotencyKey, shouldPush } },
          baseEpoch: epoch,
          payloadHash: hash,
          payload: result.message,
          stagedState: undefined,
          welcome: undefined,
          recipients: undefined,
        });
      });
      store.scrub();
      await call("SendGroupMessages", () =>
        this.#ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(result.message, shouldPush)] }),
      );
      // The node has it: nothing to resend, only to recognise when it comes back.
      store.setIntentState(intentId, "acknowledged");
      return id;
    });
  }

  /**
   * Fetches and processes everything after our cursor, then runs the
   * membership check if it is due (every 30 minutes).
   */
  sync(): Promise<void> {
    return this.#serial(async () => {
      await this.#sync();
      await this.#resumeIntents();
      try {
        await this.#maybeUpdateInstallations(SYNC_UPDATE_INSTALLATIONS_INTERVAL_NS);
      } catch (error) {
        // As libxmtp: a failed check does not fail the sync; the next one retries.
        if (!isClientError(error) && !isMlsError(error)) throw error;
      }
    });
  }

  async #sync(): Promise<void> {
    const { store } = this.#ctx;
    const paused = store.pausedForVersion(this.#groupId);
    if (paused !== undefined) {
      if (isNewerVersion(paused)) return;
      store.setPausedForVersion(this.#groupId, undefined); // this version reads it: go on
    }
    const authenticate = identityAuthenticator(this.#ctx.api, this.#ctx.inboxLogs);
    const envelopes = await queryGroupMessagesAfter(this.#ctx.api, this.#groupId, this.#row().cursor);
    // Decoded once: each envelope's outcome is written with its cursor, and
    // the state carried on in memory.
    let state = envelopes.length === 0 ? undefined : this.#state();
    for (const envelope of envelopes) {
      if (state === undefined) break;
      if (!this.#isMember(state)) {
        // Removed: nothing after our removal is ours to read. This is also
        // a guard: @parley/mls (ts-mls) still derives the next epoch for a
        // removed member today, so we must not even try.
        store.setCursor(this.#groupId, envelope.id);
        continue;
      }
      const hash = sha256(envelope.data);
      const intent = store.publishedIntentByHash(this.#groupId, hash);
      if (intent?.operation.kind === "message") {
        const { params } = intent.operation;
        const id = messageId(this.#groupId, params.idempotencyKey, params.encodedContent);
        store.transaction(() => {
          store.setCursor(this.#groupId, envelope.id);
          // As the official client: the node's time once published, the time
          // every receiver shows.
          store.markMessagePublished(id, envelope.createdNs, envelope.id);
          // Delivered: nothing of it is needed any more.
          store.deleteIntent(intent.id);
        });
        continue;
      }
      if (intent !== undefined) {
        // Our commit: it won if it is the first commit of its epoch in the
        // node's order, i.e. the state is still at the epoch it was built on.
        // Intent, state and the local group update move in one transaction,
        // so a crash leaves all before or all after.
        const staged = state.epoch === intent.baseEpoch ? intent.stagedState : undefined;
        const merged = staged === undefined ? undefined : decodeGroupState(staged);
        const transcript = merged === undefined ? undefined : commitTranscript(this.#source(envelope), state, merged, this.#ctx.inboxId);
        store.transaction(() => {
          if (staged === undefined) store.setCursor(this.#groupId, envelope.id);
          else store.updateGroup(this.#groupId, staged, envelope.id);
          store.setIntentState(intent.id, staged !== undefined ? "committed" : "lost", envelope.id);
          if (staged !== undefined) store.setLastOwnCommitNs(this.#groupId, this.#ctx.nowNs());
          if (transcript !== undefined) store.insertMessage(transcript);
        });
        state = merged ?? state;
        continue;
      }
      if (store.isOwnPayload(hash)) {
        store.setCursor(this.#groupId, envelope.id);
        continue;
      }
      const unchanged = state;
      let message: StoredMessage | undefined;
      try {
        const result = await processMessage(state, envelope.data, authenticate);
        if (result.kind === "application") {
          state = result.state;
          message = this.#toStored(result.plaintext, result.sender?.inboxId ?? "", envelope);
        } else if (result.kind === "commit") {
          // Checked before it applies (section 3.5): a commit whose tree,
          // membership map, identity states or permissions disagree is
          // skipped, and the group stays on its epoch.
          const membership = await membershipContextFor(authenticate.histories, state, result.state, result.committer);
          const refused = validateCommit(state, result, (before, after) => checkMembership(before, after, membership));
          const required = refused === undefined ? requiredVersionAboveOurs(result.state) : undefined;
          if (required !== undefined) {
            // Rule 7: paused before this commit; the cursor stays on it.
            store.setPausedForVersion(this.#groupId, required);
            this.#refused("client.paused", envelope.id, { reason: `requires protocol version ${required}` });
            return;
          }
          if (refused === undefined) {
            const removedSelf = result.removedSelf ? this.#ctx.inboxId : undefined;
            message = commitTranscript(this.#source(envelope), state, result.state, result.committer?.inboxId ?? "", removedSelf);
            state = result.state;
          } else {
            this.#refused("client.refused_commit", envelope.id, { reason: refused });
          }
        } else if (result.kind === "proposal") {
          state = result.state;
        } else {
          this.#refused("client.wrong_epoch", envelope.id, {}, "debug");
        }
      } catch (error) {
        // Not refused: the network failed us (a member's log could not be
        // fetched). Stop before this envelope (the cursor stays) and take it
        // again on the next sync.
        if (isClientError(error) && error.code === "client.network") throw error;
        const lost = authenticate.networkFailure();
        if (lost !== undefined) throw lost;
        // A message that does not decrypt or verify, or a commit whose XMTP
        // extensions do not decode or whose members' logs the node serves do
        // not verify, is skipped, never retried: reprocessing could fork the
        // group. Anything else is a bug.
        if (isClientError(error) || isProtoError(error)) this.#refused("client.refused_commit", envelope.id, { cause: error });
        else if (isMlsError(error)) this.#refused(refusalCodeOfMlsError(error.code), envelope.id, { cause: error });
        else throw error;
      }
      const after = state;
      store.transaction(() => {
        // A refused or skipped envelope leaves the state as it was: only the cursor moves.
        if (after === unchanged) store.setCursor(this.#groupId, envelope.id);
        else store.updateGroup(this.#groupId, encodeGroupState(after), envelope.id);
        if (message !== undefined) store.insertMessage(message);
      });
    }
    await this.#finishCommitted();
    if (envelopes.length > 0) store.scrub();
  }

  /**
   * Post-commit actions of our commits that won (their welcomes), then the
   * intent is done and its staged secrets are dropped. A failure leaves
   * it committed, and the next sync sends again: a joiner takes a group
   * once, however many welcomes name it.
   */
  async #finishCommitted(): Promise<void> {
    for (const intent of this.#ctx.store.intents(this.#groupId, "committed")) {
      await sendIntentWelcomes(this.#ctx, intent);
      this.#ctx.store.setIntentState(intent.id, "done");
    }
  }

  /**
   * After a restart: an intent published but never seen while the group
   * stayed on its epoch is sent again (the node may never have got it);
   * one that lost its epoch, or was never seen while the epoch moved on, is
   * regenerated on the current epoch.
   */
  async #resumeIntents(): Promise<void> {
    const { store } = this.#ctx;
    for (const intent of store.intents(this.#groupId, "published")) {
      if (intent.operation.kind === "message") {
        await this.#republishMessage(intent, intent.operation.params);
        continue;
      }
      if (this.#state().epoch === intent.baseEpoch && intent.payload !== undefined) {
        const payload = intent.payload;
        await call("SendGroupMessages", () => this.#ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(payload, false)] }));
        await this.#sync();
      }
      if (store.intent(intent.id)?.state === "published") store.setIntentState(intent.id, "lost");
    }
    for (const intent of store.intents(this.#groupId, "lost")) {
      store.setIntentState(intent.id, "superseded");
      // A lost key update is moot once any commit of ours has landed since.
      if (intent.operation.kind === "key_update" && !this.#keyUpdateDue()) continue;
      if (this.#isMember(this.#state())) await this.#publishCommit(intentSpecOf(intent));
    }
  }

  /**
   * A message of ours the node never got: the same ciphertext again while
   * receivers still read its epoch (MAX_PAST_EPOCHS), else the same content
   * and idempotency key (so the same message id) encrypted anew.
   */
  async #republishMessage(intent: IntentRow, params: MessageIntent["params"]): Promise<void> {
    const { store } = this.#ctx;
    let payload = intent.payload;
    const state = this.#state();
    if (payload === undefined || state.epoch - intent.baseEpoch > BigInt(MAX_PAST_EPOCHS)) {
      if (!this.#isMember(state)) {
        store.deleteIntent(intent.id);
        return;
      }
      const result = await encryptMessage(state, encodeEnvelope(params.encodedContent, params.idempotencyKey));
      const hash = sha256(result.message);
      const fresh = result.message;
      store.transaction(() => {
        store.updateGroup(this.#groupId, encodeGroupState(result.state), this.#row().cursor);
        store.addOwnPayload(hash, this.#groupId);
        store.deleteIntent(intent.id);
        store.insertIntent({ ...intent, baseEpoch: state.epoch, payloadHash: hash, payload: fresh });
      });
      payload = fresh;
    }
    const data = payload;
    await call("SendGroupMessages", () => this.#ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(data, params.shouldPush)] }));
    const sent = store.publishedIntentByHash(this.#groupId, sha256(data));
    if (sent !== undefined) store.setIntentState(sent.id, "acknowledged");
  }

  #refused(code: Parameters<typeof logRefused>[1], cursor: bigint, fields: { reason?: string; cause?: unknown }, level?: "debug"): void {
    logRefused(this.#ctx.logger, code, { groupId: this.id, cursor, ...fields }, level);
  }

  #source(envelope: mlsApi.GroupMessage_V1) {
    return { groupId: this.#groupId, createdNs: envelope.createdNs, cursor: envelope.id };
  }

  #toStored(plaintext: Uint8Array, senderInboxId: string, envelope: mlsApi.GroupMessage_V1): StoredMessage | undefined {
    let payload;
    try {
      payload = decodeIncomingPayload(plaintext);
    } catch (error) {
      this.#refused("client.bad_content", envelope.id, { cause: error });
      return undefined;
    }
    if (payload === undefined) return undefined;
    // Only commits make group updates: one arriving as a message is a forgery.
    if (payload.contentType === GROUP_UPDATED_TYPE) return undefined;
    return {
      id: messageId(this.#groupId, payload.idempotencyKey, payload.encodedContent),
      groupId: this.#groupId,
      senderInboxId,
      sentAtNs: envelope.createdNs,
      contentType: payload.contentType,
      encodedContent: payload.encodedContent,
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
   * re-pins every member inbox in the membership map (0xFF01), then
   * welcomes them.
   *
   * @throws ClientError `client.not_found` for an inbox with no identity or
   *   no key package, `client.publish_failed`, `client.network`, `client.identity`.
   */
  addMembers(inboxIds: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      if (inboxIds.length === 0) return;
      await this.#publishMembershipUpdate({ addInboxes: inboxIds });
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
      const ext = groupExtensions(this.#state());
      const current = decodeMembership(ext.membership);
      const superAdmins = decodeMutableMetadata(ext.mutableMetadata).superAdminList?.inboxIds ?? [];
      for (const inboxId of inboxIds) {
        if (inboxId === this.#ctx.inboxId) throw new ClientError("client.usage", "removing ourselves is a leave request, not a removal");
        if (superAdmins.includes(inboxId)) throw new ClientError("client.usage", "a super admin cannot be removed");
        if (!current.has(inboxId)) throw new ClientError("client.usage", `inbox ${inboxId} is not a member`);
      }
      await this.#publishMembershipUpdate({ removeInboxes: inboxIds });
    });
  }

  /**
   * The periodic membership check (section 3.4, libxmtp
   * `maybe_update_installations`): at most once per `intervalNs` of our
   * clock, a membership update with no inbox added or removed, committed
   * only when a member's identity moved on.
   */
  async #maybeUpdateInstallations(intervalNs: bigint): Promise<void> {
    const now = this.#ctx.nowNs();
    const last = this.#ctx.store.installationsCheckedNs(this.#groupId);
    if (last !== undefined && now - last < intervalNs) return;
    if (!this.#isMember(this.#state())) return;
    await this.#publishMembershipUpdate({});
    this.#ctx.store.setInstallationsCheckedNs(this.#groupId, now);
  }

  /**
   * Post-compromise security as libxmtp keeps it (section 3.8, "Key
   * update"): before a send, an installation that has not committed in the
   * group for GROUP_KEY_ROTATION_INTERVAL_NS, or never (just joined),
   * commits an update path first. Every commit of ours carries a path, so
   * any of them resets the clock.
   */
  async #maybeUpdateKeys(): Promise<void> {
    if (!this.#keyUpdateDue() || !this.#isMember(this.#state())) return;
    await this.#publishCommit({ kind: "key_update", params: {} });
  }

  #keyUpdateDue(): boolean {
    const last = this.#ctx.store.lastOwnCommitNs(this.#groupId);
    return last === undefined || this.#ctx.nowNs() - last >= GROUP_KEY_ROTATION_INTERVAL_NS;
  }

  #publishMembershipUpdate(change: { readonly addInboxes?: readonly string[]; readonly removeInboxes?: readonly string[] }): Promise<void> {
    return this.#publishCommit({ kind: "membership", params: change });
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
    return this.#serial(() => this.#publishCommit({ kind: "metadata", params: { key, value } }));
  }

  /** The group's permission policies as the official SDK shows them. */
  permissions(): GroupPermissions {
    const policies = decodePolicySet(groupExtensions(this.#state()).permissions);
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
    return this.#serial(() => this.#publishCommit({ kind: "permission", params }));
  }

  isAdmin(inboxId: string): boolean {
    return this.listAdmins().includes(inboxId);
  }

  isSuperAdmin(inboxId: string): boolean {
    return this.listSuperAdmins().includes(inboxId);
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
    return this.#serial(() => this.#publishCommit({ kind: "admins", params: { change, inboxId } }));
  }

  /** The commit an intent stands for, built on `state`; undefined when there is nothing to change. */
  /**
   * Builds the intent's commit on the current epoch, writes it as an
   * intent (with the state it leads to and its welcome), publishes it, and
   * syncs: merged if it came first in the node's order, rebuilt on the new
   * epoch if not; welcomes go out once it is confirmed.
   */
  async #publishCommit(spec: IntentSpec): Promise<void> {
    const { store } = this.#ctx;
    this.#assertNotPaused();
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt += 1) {
      await this.#sync();
      const state = this.#state();
      const result = await buildIntentCommit(this.#ctx, spec, state);
      if (result === undefined) return;
      assertOwnCommitAllowed(state, result.state, this.#ctx.inboxId);
      const hash = sha256(result.commit);
      const id = store.transaction(() => {
        store.addOwnPayload(hash, this.#groupId);
        return store.insertIntent({
          groupId: this.#groupId,
          operation: spec,
          baseEpoch: state.epoch,
          payloadHash: hash,
          payload: result.commit,
          stagedState: encodeGroupState(result.state),
          welcome: result.welcome,
          recipients: recipientsOf(result),
        });
      });
      await call("SendGroupMessages", () => this.#ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(result.commit, false)] }));
      await this.#sync();
      const outcome = store.intent(id)?.state;
      if (outcome === "done" || outcome === "committed") return;
      // Lost its epoch (or not seen yet): this attempt is replaced by the next.
      store.setIntentState(id, "superseded");
    }
    throw new ClientError("client.publish_failed", `a commit lost its epoch ${MAX_PUBLISH_ATTEMPTS} times`);
  }
}
