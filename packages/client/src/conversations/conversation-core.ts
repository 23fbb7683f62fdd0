// What every conversation runs on, groups and DMs alike
// (../shared/spec/xmtp-client.md 3.3, 3.4, 3.8): its MLS state in the local
// store with the cursor of the last envelope processed, one operation at a
// time, envelopes processed strictly in the node's id order (decided by
// process-envelope.ts, written by apply-outcome.ts), and the upkeep commits
// (membership check, key update) that come before a send or after a sync.
import { createHash } from "node:crypto";
import { decodeGroupState, isMlsError, type GroupState } from "@parley/mls";
import { groupMessagePages } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError, isClientError } from "../client-error.js";
import { identityAuthenticator } from "../identity/identity-lookup.js";
import type { GroupRow } from "../store/local-store.js";
import { applyOutcome } from "./apply-outcome.js";
import type { IntentSpec } from "./commit-intents.js";
import { syncCommitLog } from "./commit-log.js";
import { finishCommitted, loseOvertaken, publishCommit, resumeIntents, type IntentHost } from "./intent-runner.js";
import { keyUpdateDue } from "./key-rotation.js";
import { planMembershipUpdate, SYNC_UPDATE_INSTALLATIONS_INTERVAL_NS } from "./membership-update.js";
import { isForSibling, isMemberIn, processEnvelope } from "./process-envelope.js";
import { isNewerVersion } from "./protocol-version.js";
import { asLocalKey, holdsSeveral, type LocalKey } from "./local-key.js";
import { logSiblingEnvelope } from "../logging.js";

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

export class ConversationCore implements IntentHost {
  readonly ctx: ClientContext;
  /** Where the local store holds the conversation (local-key.ts). */
  readonly localKey: LocalKey;
  /** The MLS group id: the node's topic. */
  readonly groupId: Uint8Array;
  /** Hex of the local key: the conversation id. */
  readonly id: string;
  /** One operation at a time per conversation: state in, state out. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: ClientContext, localKey: LocalKey) {
    this.ctx = ctx;
    this.localKey = asLocalKey(localKey.slice());
    this.id = Buffer.from(localKey).toString("hex");
    // A group's id never changes (RFC 9420 8.1), nor does a rejoin change it.
    this.groupId = this.state().groupId.slice();
  }

  row(): GroupRow {
    const row = this.ctx.store.group(this.localKey);
    if (row === undefined) throw new ClientError("client.not_found", `no group ${this.id} in the local store`);
    return row;
  }

  state(): GroupState {
    return decodeGroupState(this.row().state);
  }

  isMember(state: GroupState): boolean {
    return isMemberIn(state, this.ctx.installationKey);
  }

  /** Runs `run` after every operation queued before it. */
  serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  pausedForVersion(): string | undefined {
    return this.ctx.store.pausedForVersion(this.localKey);
  }

  assertNotPaused(): void {
    const version = this.pausedForVersion();
    if (version !== undefined && isNewerVersion(version)) {
      throw new ClientError("client.usage", `the group is paused until a client that supports protocol version ${version}`);
    }
  }

  /** A sync as the app asks for it: envelopes, unfinished intents, then the membership check if due. */
  async sync(): Promise<void> {
    await this.syncEnvelopes();
    await resumeIntents(this);
    try {
      await this.maybeUpdateInstallations(SYNC_UPDATE_INSTALLATIONS_INTERVAL_NS);
    } catch (error) {
      // As libxmtp: a failed check does not fail the sync; the next one retries.
      if (!isClientError(error) && !isMlsError(error)) throw error;
    }
    try {
      await syncCommitLog(this.ctx, this.localKey, this.state());
    } catch (error) {
      // As libxmtp's commit log worker: a failure waits for the next round.
      if (!isClientError(error)) throw error;
    }
  }

  async syncEnvelopes(): Promise<void> {
    const { store } = this.ctx;
    const paused = store.pausedForVersion(this.localKey);
    if (paused !== undefined) {
      if (isNewerVersion(paused)) return;
      store.setPausedForVersion(this.localKey, undefined); // this version reads it: go on
    }
    const authenticate = identityAuthenticator(this.ctx.api, this.ctx.inboxLogs);
    const cursor = this.row().cursor;
    // Attempts at envelopes the cursor has passed are done with.
    store.clearInputAttempts("group_message", this.localKey, cursor);
    let processed = false;
    try {
      // Page by page: each envelope's outcome is written with its cursor
      // before the next page is asked for, so a node that fails or stalls
      // on a later page loses us nothing, and memory holds one page. The
      // state is decoded once and carried on in memory.
      let state: GroupState | undefined;
      let siblings: boolean | undefined;
      for await (const page of groupMessagePages(this.ctx.api, this.groupId, cursor)) {
        for (const envelope of page) {
          processed = true;
          state ??= this.state();
          const hash = sha256(envelope.data);
          const outcome = await processEnvelope(state, envelope, {
            localKey: this.localKey,
            ownInboxId: this.ctx.inboxId,
            ownInstallationKey: this.ctx.installationKey,
            authenticate,
            ownIntent: store.intentByHash(this.localKey, hash),
            ownPayload: store.isOwnPayload(hash),
            nowNs: this.ctx.nowNs(),
          });
          // Another group we hold on this id (local-key.ts) shares the topic:
          // what does not open under our state is most likely its envelope.
          siblings ??= holdsSeveral(store, this.groupId);
          const spared = siblings && isForSibling(outcome);
          if (spared) logSiblingEnvelope(this.ctx.logger, { groupId: this.id, cursor: envelope.id });
          const applied = applyOutcome(this.ctx, this.localKey, state, envelope, spared ? { kind: "skip" } : outcome);
          if (applied.stop) return;
          state = applied.state;
        }
      }
      if (state !== undefined) loseOvertaken(this.ctx, this.localKey, state.epoch);
      await finishCommitted(this.ctx, this.localKey);
    } finally {
      // Also when a page or the welcomes fail: the log keeps old pages, used secrets among them.
      if (processed) store.scrub();
    }
  }

  publishCommit(spec: IntentSpec): Promise<void> {
    return publishCommit(this, spec);
  }

  /** What an earlier run left unfinished, a key update among them. */
  async settleUnfinished(): Promise<void> {
    if (!this.ctx.store.hasUnfinishedIntents(this.localKey)) return;
    await this.syncEnvelopes();
    await resumeIntents(this);
  }

  /**
   * The periodic membership check (section 3.4, libxmtp
   * `maybe_update_installations`): at most once per `intervalNs` of our
   * clock, a membership update with no inbox added or removed, committed
   * only when a member's identity moved on.
   */
  async maybeUpdateInstallations(intervalNs: bigint): Promise<void> {
    const now = this.ctx.nowNs();
    const last = this.ctx.store.installationsCheckedNs(this.localKey);
    if (last !== undefined && now - last < intervalNs) return;
    if (!this.isMember(this.state())) return;
    // Looked at on the state we hold first: with nothing to change there is
    // nothing to commit, so no sync either. libxmtp syncs first every time;
    // a send checks every 5 s, and the sync downloads whatever anyone put on
    // the group's topic meanwhile (the node authenticates nothing), a flood
    // of junk included. What others' later commits change, the next check sees.
    const plan = await planMembershipUpdate(this.ctx, this.state(), {}, identityAuthenticator(this.ctx.api, this.ctx.inboxLogs).histories);
    if (plan.changed) await this.publishCommit({ kind: "membership", params: {} });
    this.ctx.store.setInstallationsCheckedNs(this.localKey, now);
  }

  /** Post-compromise security: a key update before a send when ours are due (key-rotation.ts). */
  async maybeUpdateKeys(): Promise<void> {
    if (!keyUpdateDue(this.ctx, this.localKey) || !this.isMember(this.state())) return;
    await this.publishCommit({ kind: "key_update", params: {} });
  }
}
