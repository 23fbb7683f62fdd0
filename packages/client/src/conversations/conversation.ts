// What groups and DMs share, as the official SDK's `Conversation`
// (../shared/spec/xmtp-client.md section 7): identity and metadata, members,
// sending, syncing, streaming and listing messages. `Group` and `Dm` add
// their own. The machinery (state, order, intents) is ConversationCore's.
import { groupExtensions, groupMembers } from "@parley/mls";
import { messageContents } from "@parley/proto";
import { toEncodedContent, type EncodedContentInput, type SendOptions } from "../content/encoded-content.js";
import { GROUP_UPDATED_TYPE, GroupMessageKind } from "../content/group-updated-codec.js";
import { encodeReaction, type Reaction } from "../content/reaction-codec.js";
import { encodeReply } from "../content/reply-codec.js";
import { encodeText } from "../content/text-codec.js";
import type { StoredMessage } from "../store/local-store.js";
import { createAsyncStream, type AsyncStream } from "../streams/async-stream.js";
import { pushNewMessages } from "../streams/new-messages.js";
import type { ConversationCore } from "./conversation-core.js";
import { debugInfoOf, type ConversationDebugInfo } from "./debug-info.js";
import { decodeStoredMessage, type DecodedMessage, type ListMessagesOptions } from "./decoded-message.js";
import { decodeImmutableMetadata } from "./group-metadata.js";
import { publishMessage } from "./intent-runner.js";
import { SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS } from "./membership-update.js";

export interface GroupMemberInfo {
  readonly inboxId: string;
  readonly installationIds: string[];
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

export class Conversation {
  /** @internal */
  protected readonly core: ConversationCore;

  /** @internal conversations are made by `client.conversations`. */
  constructor(core: ConversationCore) {
    this.core = core;
  }

  /**
   * Hex of the conversation's local key (conversations/local-key.ts): hex of
   * the MLS group id, as the official SDK's `id`, unless another group we
   * hold came first with the same group id.
   */
  get id(): string {
    return this.core.id;
  }

  /** The MLS group id (shared by every group its makers gave it). */
  get groupIdBytes(): Uint8Array {
    return this.core.groupId.slice();
  }

  /** @internal where the local store holds the conversation. */
  get localKeyBytes(): Uint8Array {
    return this.core.localKey.slice();
  }

  get createdAtNs(): bigint {
    return this.core.row().createdNs;
  }

  get addedByInboxId(): string {
    return this.core.row().addedByInboxId;
  }

  /**
   * The protocol version a commit of the group requires above ours: the
   * group is paused before that commit until a client that implements it
   * (section 3.5 rule 7), as the official SDK's `pausedForVersion()`.
   */
  pausedForVersion(): string | undefined {
    return this.core.pausedForVersion();
  }

  /** Whether we are still a member (false after we were removed). */
  get isActive(): boolean {
    return this.core.isMember(this.core.state());
  }

  /** The immutable metadata: conversation type and creator. */
  metadata(): { conversationType: "group" | "dm" | "other"; creatorInboxId: string } {
    const meta = decodeImmutableMetadata(groupExtensions(this.core.state()).immutableMetadata);
    const t = meta.conversationType;
    return {
      conversationType: t === messageContents.ConversationType.GROUP ? "group" : t === messageContents.ConversationType.DM ? "dm" : "other",
      creatorInboxId: meta.creatorInboxId,
    };
  }

  /** Members by inbox, from the ratchet tree. */
  members(): Promise<GroupMemberInfo[]> {
    const byInbox = new Map<string, string[]>();
    for (const m of groupMembers(this.core.state())) {
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

  /** A reaction (xmtp.org/reaction:2.0), not pushed; returns its message id. */
  sendReaction(reaction: Reaction): Promise<string> {
    return this.#sendEncoded(encodeReaction(reaction), false);
  }

  /** A text reply (xmtp.org/reply:1.0) to the message with id `reference`; returns its message id. */
  sendReply(reference: string, text: string, referenceInboxId?: string): Promise<string> {
    return this.#sendEncoded(encodeReply(reference, referenceInboxId, encodeText(text)), true);
  }

  #sendEncoded(encoded: messageContents.EncodedContent, shouldPush: boolean, key?: string): Promise<string> {
    const { core } = this;
    return core.serial(async () => {
      core.assertNotPaused();
      await core.settleUnfinished();
      await core.maybeUpdateInstallations(SEND_MESSAGE_UPDATE_INSTALLATIONS_INTERVAL_NS);
      await core.maybeUpdateKeys();
      return publishMessage(core, encoded, shouldPush, key);
    });
  }

  /**
   * Fetches and processes everything after our cursor, then runs the
   * membership check if it is due (every 30 minutes).
   */
  sync(): Promise<void> {
    return this.core.serial(() => this.core.sync());
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
        groupIdBytes: this.core.groupId,
        cursor: this.core.row().cursor,
        sync: () => this.sync(),
        messages: () => this.messages(),
      };
      return pushNewMessages(this.core.ctx.api, [followed], push, signal);
    });
  }

  /** Messages from the local store (call sync() first for new ones). */
  messages(options: ListMessagesOptions = {}): Promise<DecodedMessage[]> {
    const rows = this.core.ctx.store.messages(this.messageGroupIds(), {
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      descending: options.direction === "descending",
      ...(options.sentAfterNs === undefined ? {} : { sentAfterNs: options.sentAfterNs }),
      ...(options.sentBeforeNs === undefined ? {} : { sentBeforeNs: options.sentBeforeNs }),
      ...(options.kind === GroupMessageKind.MembershipChange ? { contentType: GROUP_UPDATED_TYPE } : {}),
      ...(options.kind === GroupMessageKind.Application ? { excludeContentType: GROUP_UPDATED_TYPE } : {}),
    });
    return Promise.resolve(rows.map((r) => this.decodedMessage(r)));
  }

  /** How many messages `messages(options)` would list (without `limit`). */
  async countMessages(options: Omit<ListMessagesOptions, "limit" | "direction"> = {}): Promise<number> {
    return (await this.messages(options)).length;
  }

  /** The newest message, if any. */
  async lastMessage(): Promise<DecodedMessage | undefined> {
    return (await this.messages({ direction: "descending", limit: 1 }))[0];
  }

  /**
   * As the official SDK's `debugInfo()`: the epoch and whether the group
   * forked, as the commit log shows it after the last `sync()`.
   */
  debugInfo(): Promise<ConversationDebugInfo> {
    return Promise.resolve(debugInfoOf(this.core.ctx, this.core.localKey, this.core.state(), this.core.row().cursor));
  }

  /** @internal a stored row of this conversation (or a duplicate), decoded. */
  decodedMessage(r: StoredMessage): DecodedMessage {
    return decodeStoredMessage(r, this.id);
  }

  /** Where this conversation's messages live. */
  protected messageGroupIds(): Uint8Array[] {
    return [this.core.localKey];
  }
}
