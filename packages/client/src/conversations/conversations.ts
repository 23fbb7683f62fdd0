// client.conversations (../shared/spec/xmtp-client.md sections 2.5, 3.1, 7):
// creating groups, joining from welcomes, listing.
import { createGroup, encodeGroupState, epochAuthenticator, groupExtensions, type GroupState, joinFromWelcome, MAX_GROUP_INBOXES, privateInitKey, unwrapWelcome } from "@parley/mls";
import { messageContents, type mlsApi } from "@parley/proto";
import { welcomePages } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { identityAuthenticator } from "../identity/identity-lookup.js";
import { ClientError } from "../client-error.js";
import { classifyFailure, retryOrGiveUp } from "../incoming/incoming-failure.js";
import { checkOwnKeyPackage } from "../identity/cloned-installation.js";
import { inboxIdInput, inboxIdsInput } from "../identity/inbox-id-input.js";
import { maintainKeyPackages } from "../key-packages.js";
import { ConversationCore } from "./conversation-core.js";
import type { DecodedMessage } from "./decoded-message.js";
import { Dm } from "./dm.js";
import { Group } from "./group.js";
import { welcomeExtensionViolation } from "./commit-validation.js";
import { dmShapeViolation, dmWelcomeViolation } from "./dm-validation.js";
import { checkJoinedGroup } from "./membership-rules.js";
import { knownGroupWelcome, type HeldGroup } from "./known-group-welcome.js";
import { asLocalKey, heldOnGroupId, newLocalKey, type LocalKey } from "./local-key.js";
import { recordJoined } from "./commit-log.js";
import type { GroupRow } from "../store/local-store.js";
import { createAsyncStream, type AsyncStream } from "../streams/async-stream.js";
import type { FollowedConversation } from "../streams/new-messages.js";
import { pushAllMessages } from "../streams/all-messages.js";
import { pushNewConversations, type ConversationSource } from "../streams/new-conversations.js";
import {
  ConversationType,
  duplicatesOf,
  listConversations,
  surfacedDmWith,
  type ConversationIndex,
  type ListConversationsOptions,
} from "./conversation-list.js";
import { welcomeTranscript } from "./group-transcript.js";
import { decodeImmutableMetadata, newDmExtensions, newGroupExtensions, type GroupMetadataOptions } from "./group-metadata.js";
import type { XmtpGroupExtensions } from "@parley/mls";
import { logRefused, logSkipped } from "../logging.js";
import { policySetForOptions, type GroupPermissionsOptions, type PermissionPolicySet } from "./group-permissions.js";

/** Welcomes have one topic per installation: their attempts have no scope. */
const NO_SCOPE = new Uint8Array(0);

export interface CreateGroupOptions extends GroupMetadataOptions {
  /** Default ("All members"), AdminOnly, or CustomPolicy with `customPermissionPolicySet`. */
  readonly permissions?: GroupPermissionsOptions;
  readonly customPermissionPolicySet?: PermissionPolicySet;
}

export class Conversations {
  readonly #ctx: ClientContext;
  /** One object and one core (one queue) per stored conversation. */
  readonly #conversations = new Map<string, { readonly conversation: Group | Dm; readonly core: ConversationCore }>();

  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
    this.#index = {
      ownInboxId: ctx.inboxId,
      all: () => ctx.store.groups().map((row) => this.#conversation(asLocalKey(row.groupId))),
      lastMessageNs: (conversation) => ctx.store.messages(conversation.localKeyBytes, { descending: true, limit: 1 })[0]?.sentAtNs ?? 0n,
    };
  }

  #conversation(localKey: LocalKey): Group | Dm {
    return this.#entry(localKey).conversation;
  }

  /**
   * The one object for a stored conversation: a Dm when its immutable
   * metadata says so and it is a sound DM (dm-validation.ts), else a Group.
   * A group that claims to be a DM and is not one (stored by a client that
   * did not check) is never a Dm: not stitched, not listed.
   */
  #entry(localKey: LocalKey): { readonly conversation: Group | Dm; readonly core: ConversationCore } {
    const id = Buffer.from(localKey).toString("hex");
    let entry = this.#conversations.get(id);
    if (entry === undefined) {
      const core = new ConversationCore(this.#ctx, localKey);
      const state = core.state();
      const type = decodeImmutableMetadata(groupExtensions(state).immutableMetadata).conversationType;
      if (type === messageContents.ConversationType.DM && dmShapeViolation(state) === undefined) {
        const dm: Dm = new Dm(core, () => duplicatesOf(this.#index, dm));
        entry = { conversation: dm, core };
      } else {
        entry = { conversation: new Group(core), core };
      }
      this.#conversations.set(id, entry);
    }
    return entry;
  }

  readonly #created = new Set<() => void>();
  #welcomeSync: Promise<void> = Promise.resolve();

  readonly #index: ConversationIndex;

  /**
   * Creates a group with us as its only super admin and adds the given
   * inboxes (every installation of each) in one commit.
   *
   * @throws ClientError `client.not_found`, `client.publish_failed`, `client.network`.
   */
  async createGroup(inboxIds: readonly string[], options: CreateGroupOptions = {}): Promise<Group> {
    const members = inboxIdsInput(inboxIds);
    if (new Set([this.#ctx.inboxId, ...members]).size > MAX_GROUP_INBOXES) {
      throw new ClientError("client.usage", `a group holds at most ${MAX_GROUP_INBOXES} inboxes`);
    }
    const group = await this.#create(newGroupExtensions(this.#ctx.inboxId, options, policySetForOptions(options)), members);
    if (!(group instanceof Group)) throw new ClientError("client.bad_store", "a group we created reads as a DM");
    return group;
  }

  /**
   * The DM with `inboxId`: the existing one if it is active (the most
   * recently active of its duplicates, as libxmtp `find_or_create_dm`), or
   * a new one.
   *
   * @throws ClientError `client.usage` for our own inbox, and as createGroup.
   */
  async createDm(peer: string): Promise<Dm> {
    const inboxId = inboxIdInput(peer);
    if (inboxId === this.#ctx.inboxId) throw new ClientError("client.usage", "a DM with ourselves");
    const existing = this.getDmByInboxId(inboxId);
    if (existing?.isActive === true) return existing;
    const dm = await this.#create(newDmExtensions(this.#ctx.inboxId, inboxId), [inboxId]);
    if (!(dm instanceof Dm)) throw new ClientError("client.bad_store", "a DM we created reads as a group");
    return dm;
  }

  /** The DM with `inboxId`: of its duplicates, the one with the newest message. */
  getDmByInboxId(inboxId: string): Dm | undefined {
    return surfacedDmWith(this.#index, inboxId);
  }

  async #create(extensions: XmtpGroupExtensions, inboxIds: readonly string[]): Promise<Group | Dm> {
    const state = await createGroup({
      signer: this.#ctx.mlsSigner,
      extensions,
      authenticate: () => true,
    });
    const { store } = this.#ctx;
    const localKey = newLocalKey(store, state.groupId);
    store.transaction(() => {
      store.insertGroup({
        groupId: localKey,
        state: encodeGroupState(state),
        cursor: 0n,
        createdNs: this.#ctx.nowNs(),
        addedByInboxId: this.#ctx.inboxId,
      });
      recordJoined(this.#ctx, localKey, state);
    });
    const { conversation, core } = this.#entry(localKey);
    const others = inboxIds.filter((id) => id !== this.#ctx.inboxId);
    if (others.length > 0) await core.serial(() => core.publishCommit({ kind: "membership", params: { addInboxes: others } }));
    for (const listener of this.#created) listener();
    return conversation;
  }

  /**
   * Fetches new welcomes and joins their groups. A welcome that does not
   * open or whose members do not check out against identity state is
   * skipped; the welcome cursor advances past it either way.
   */
  sync(): Promise<void> {
    // One welcome sync at a time: a stream and the app may both call it.
    const next = this.#welcomeSync.then(() => this.#syncWelcomes());
    this.#welcomeSync = next.catch(() => undefined);
    return next;
  }

  async #syncWelcomes(): Promise<void> {
    const { store, api } = this.#ctx;
    const cursor = store.installation()?.welcomeCursor ?? 0n;
    // Attempts at welcomes the cursor has passed are done with.
    store.clearInputAttempts("welcome", NO_SCOPE, cursor);
    // Page by page, each welcome's cursor written before the next page is asked for.
    for await (const page of welcomePages(api, this.#ctx.installationKey, cursor)) {
      for (const welcome of page) await this.#processWelcome(welcome);
    }
    // A used key package is public knowledge of who joined: rotate it, as
    // libxmtp queues a rotation after consuming a welcome. The old private
    // half stays a day, for welcomes still in flight to it.
    await maintainKeyPackages(this.#ctx);
    // After our own rotation: a key package on the node that we did not
    // make is another holder of our key rotating one it used.
    await checkOwnKeyPackage(this.#ctx);
  }

  /** One welcome: joined, refused (the cursor moves past it), or thrown to retry (the cursor stays before it). */
  async #processWelcome(welcome: mlsApi.WelcomeMessage): Promise<void> {
    const { store, api } = this.#ctx;
    const v = welcome.version;
    if (v.case !== "v1") {
      if (v.value !== undefined) store.setWelcomeCursor(v.value.id);
      return;
    }
    const w = v.value;
    const authenticate = identityAuthenticator(api, this.#ctx.inboxLogs);
    try {
      const keys = store.keyPackage(w.hpkePublicKey);
      if (keys === undefined) {
        logRefused(this.#ctx.logger, "refused.welcome", { cursor: w.id, reason: "not wrapped to a key package of ours" });
        store.setWelcomeCursor(w.id);
        return;
      }
      const opened = unwrapWelcome(w, privateInitKey(keys.privateKeyPackage));
      const { state, addedBy } = await joinFromWelcome({
        welcome: opened.welcome,
        keyPackage: keys.keyPackage,
        privateKeyPackage: keys.privateKeyPackage,
        authenticate,
      });
      // Every leaf at its inbox's pinned sequence id, every installation there in the tree.
      const refused =
        welcomeExtensionViolation(state) ??
        dmWelcomeViolation(state, this.#ctx.inboxId, addedBy?.inboxId) ??
        (await checkJoinedGroup(authenticate.histories, state, { sentNs: w.createdNs, nowNs: this.#ctx.nowNs() }));
      if (refused !== undefined) {
        logRefused(this.#ctx.logger, "refused.welcome", { cursor: w.id, reason: refused });
        store.setWelcomeCursor(w.id);
        return;
      }
      store.markKeyPackageUsed(w.hpkePublicKey, this.#ctx.nowNs());
      const cursor = opened.messageCursor ?? 0n;
      const adder = addedBy?.inboxId ?? "";
      const held = heldOnGroupId(store, state.groupId);
      const verdict = held.length === 0 ? ({ kind: "join" } as const) : await this.#knownGroup(state, held);
      if (verdict.kind === "refuse") {
        logRefused(this.#ctx.logger, "refused.welcome", { cursor: w.id, reason: verdict.reason });
      } else {
        const localKey = verdict.kind === "join" ? newLocalKey(store, state.groupId) : verdict.localKey;
        const transcript = welcomeTranscript({ localKey, createdNs: w.createdNs, cursor }, adder, this.#ctx.inboxId);
        const write = () =>
          store.transaction(() => {
            if (verdict.kind === "join") {
              store.insertGroup({ groupId: localKey, state: encodeGroupState(state), cursor, createdNs: w.createdNs, addedByInboxId: adder });
            } else {
              store.rejoinGroup(localKey, encodeGroupState(state), cursor, adder);
            }
            store.insertMessage(transcript);
            recordJoined(this.#ctx, localKey, state);
          });
        // A replaced state is written in its conversation's queue, as any change of it.
        if (verdict.kind === "join") write();
        else await this.#entry(localKey).core.serial(() => Promise.resolve(write()));
      }
      store.setWelcomeCursor(w.id);
    } catch (error) {
      const decision = classifyFailure(error, "welcome", authenticate.networkFailure());
      if (decision.action === "retry") {
        // The node or our store failed us, not the welcome: stop here, and
        // the next sync takes it again (the cursor stays before it), unless
        // the node failed it too often.
        const verdict = retryOrGiveUp(decision.error, store.attemptLedger("welcome", NO_SCOPE, w.id), this.#ctx.nowNs());
        if (verdict.action === "retry") throw decision.error;
        store.setWelcomeCursor(w.id);
        logRefused(this.#ctx.logger, verdict.code, { cursor: w.id, reason: `the node failed it ${verdict.count} times`, cause: decision.error });
        return;
      }
      store.setWelcomeCursor(w.id);
      logSkipped(this.#ctx.logger, decision, { cursor: w.id });
    }
  }

  /**
   * A welcome for a group id we hold (known-group-welcome.ts): each group
   * held on the id syncs its messages first, in its queue, so that a removal
   * we had not seen yet counts; then the welcome is a replay (refused),
   * re-adds us to a group we were removed from (its state is replaced), or
   * is another group on the same id (joined under a new local key).
   *
   * @throws as a group's sync: `client.network`, `client.bad_store` (retried).
   */
  async #knownGroup(
    joined: GroupState,
    rows: readonly GroupRow[],
  ): Promise<{ readonly kind: "join" } | { readonly kind: "replace"; readonly localKey: LocalKey } | { readonly kind: "refuse"; readonly reason: string }> {
    const cores = rows.map((row) => this.#entry(asLocalKey(row.groupId)).core);
    const held: HeldGroup[] = [];
    for (const core of cores) {
      const state = await core.serial(async () => {
        await core.syncEnvelopes();
        return core.state();
      });
      const recorded = this.#ctx.store.commitLog.local(core.localKey);
      held.push({
        state,
        active: core.isMember(state),
        authenticatorAt: (epoch) =>
          recorded.find((e) => e.epoch === epoch)?.epochAuthenticator ?? (epoch === state.epoch ? epochAuthenticator(state) : undefined),
      });
    }
    const verdict = knownGroupWelcome(held, joined);
    if (verdict.kind !== "replace") return verdict;
    const core = cores[verdict.index];
    if (core === undefined) throw new ClientError("client.bad_store", "a held group vanished");
    return { kind: "replace", localKey: core.localKey };
  }

  /** Welcomes, then every group's messages. */
  async syncAll(): Promise<void> {
    await this.sync();
    for (const group of this.list({ includeDuplicateDms: true })) await group.sync();
  }

  /**
   * Every new message of every conversation, until return(), including
   * conversations joined or created while it runs. Each envelope from the
   * node triggers an ordered sync of its group; each message is yielded once.
   *
   * @throws ClientError `client.network` from next() when a subscription fails.
   */
  streamAllMessages(options: { conversationType?: ConversationType } = {}): AsyncStream<DecodedMessage> {
    const follow = (group: Group | Dm): FollowedConversation<DecodedMessage> => {
      const store = this.#ctx.store;
      return {
        groupIdBytes: group.groupIdBytes,
        get cursor() {
          return store.group(group.localKeyBytes)?.cursor ?? 0n;
        },
        sync: () => group.sync(),
        messages: () => group.messages(),
      };
    };
    return createAsyncStream<DecodedMessage>(async (push, signal) => {
      const type = options.conversationType;
      const initial = this.list({ includeDuplicateDms: true, ...(type === undefined ? {} : { conversationType: type }) });
      const arrivals = this.#streamConversations(type, (_c): _c is Group | Dm => true);
      signal.addEventListener("abort", () => void arrivals.return(), { once: true });
      await pushAllMessages(this.#ctx.api, initial.map(follow), async () => {
        const next = await arrivals.next();
        return next.done === true ? undefined : follow(next.value);
      }, push, signal);
    });
  }

  /** streamAllMessages of groups only. */
  streamAllGroupMessages(): AsyncStream<DecodedMessage> {
    return this.streamAllMessages({ conversationType: ConversationType.Group });
  }

  /** streamAllMessages of DMs only. */
  streamAllDmMessages(): AsyncStream<DecodedMessage> {
    return this.streamAllMessages({ conversationType: ConversationType.Dm });
  }

  /**
   * New conversations (groups and DMs) as they are joined from welcomes or
   * created here, until return().
   *
   * @throws ClientError `client.network` from next() when the subscription fails.
   */
  stream(): AsyncStream<Group | Dm> {
    return this.#streamConversations(undefined, (_c): _c is Group | Dm => true);
  }

  streamGroups(): AsyncStream<Group> {
    return this.#streamConversations(ConversationType.Group, (c) => c instanceof Group);
  }

  streamDms(): AsyncStream<Dm> {
    return this.#streamConversations(ConversationType.Dm, (c) => c instanceof Dm);
  }

  #streamConversations<C extends Group | Dm>(type: ConversationType | undefined, is: (c: Group | Dm) => c is C): AsyncStream<C> {
    const source: ConversationSource<Group | Dm> = {
      installationKey: this.#ctx.installationKey,
      welcomeCursor: () => this.#ctx.store.installation()?.welcomeCursor ?? 0n,
      sync: () => this.sync(),
      list: () => this.list({ includeDuplicateDms: true }),
      onCreated: (listener) => {
        this.#created.add(listener);
        return () => this.#created.delete(listener);
      },
    };
    const accept = (c: Group | Dm): c is C =>
      is(c) && (type === undefined || listConversations(this.#index, { conversationType: type, includeDuplicateDms: true }).includes(c));
    return createAsyncStream<C>((push, signal) => pushNewConversations(this.#ctx.api, source, accept, push, signal));
  }

  /** Groups and DMs, oldest first; one DM per peer unless `includeDuplicateDms`. */
  list(options: ListConversationsOptions = {}): (Group | Dm)[] {
    return listConversations(this.#index, options);
  }

  listGroups(options: Omit<ListConversationsOptions, "conversationType"> = {}): Group[] {
    return this.list({ ...options, conversationType: ConversationType.Group }).filter((c) => c instanceof Group);
  }

  listDms(options: Omit<ListConversationsOptions, "conversationType"> = {}): Dm[] {
    return this.list({ ...options, conversationType: ConversationType.Dm }).filter((c) => c instanceof Dm);
  }

  /** A message of any conversation by its hex id, from the local store. */
  getMessageById(id: string): DecodedMessage | undefined {
    const row = this.#ctx.store.message(id);
    if (row === undefined) return undefined;
    return this.#conversation(asLocalKey(row.groupId)).decodedMessage(row);
  }

  /** By the conversation's `id`: hex of its local key (local-key.ts). */
  getConversationById(id: string): Group | Dm | undefined {
    const localKey = asLocalKey(Uint8Array.from(Buffer.from(id, "hex")));
    return this.#ctx.store.group(localKey) === undefined ? undefined : this.#conversation(localKey);
  }
}

