// Every change we make to a group is an intent, written before it is
// published (../shared/spec/xmtp-client.md 3.8): a message with the ratchet
// state it consumed, a commit with the state it leads to and its welcome.
// This module publishes them, resumes what a restart left unfinished, and
// rebuilds a commit that lost its epoch on the new one (up to three times).
// Whether a published commit won is decided by the sync (process-envelope.ts)
// when the node's order shows it. Until then it is never given up: a node
// that lags, or withholds our commit from us while serving it to the
// others, would otherwise have us build a second commit for the same epoch
// and merge that one while everyone else merged the first (a fork).
import { createHash } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { encodeGroupState, encryptMessage, eraseConsumed, isMlsError, MAX_PAST_EPOCHS, type GroupState } from "@parley/mls";
import { encode, messageContents } from "@parley/proto";
import { call, groupMessageInput } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import { contentTypeString, encodeEnvelope, messageId } from "../content/text-codec.js";
import type { MessageIntent } from "../store/intent-record.js";
import { identityAuthenticator } from "../identity/identity-lookup.js";
import type { GroupRow, IntentRow, IntentState } from "../store/local-store.js";
import { assertOwnCommitAllowed } from "./commit-validation.js";
import { assertOwnCommitPasses } from "./commit-verdict.js";
import { buildIntentCommit, intentSpecOf, recipientsOf, sendIntentWelcomes, type IntentSpec } from "./commit-intents.js";
import { keyUpdateDue } from "./key-rotation.js";

const MAX_PUBLISH_ATTEMPTS = 3;
/** Syncs, after the first, that wait for the node to show a commit we published (libxmtp `sync_until_intent_resolved`). */
const SETTLE_WAITS_MS = [50, 200, 800] as const;

/** What the runner needs of a conversation. */
export interface IntentHost {
  readonly ctx: ClientContext;
  /** Where the local store holds the conversation (local-key.ts). */
  readonly localKey: Uint8Array;
  row(): GroupRow;
  state(): GroupState;
  isMember(state: GroupState): boolean;
  /** @throws ClientError `client.usage` while the group waits for a newer protocol version. */
  assertNotPaused(): void;
  /** Processes everything after the cursor (not queued: callers hold the conversation's queue). */
  syncEnvelopes(): Promise<void>;
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

/**
 * Encrypts and publishes an application message; returns its id. The new
 * ratchet state, the message and its intent are written before publishing:
 * a generation is never reused, the message shows up exactly once, and if
 * publishing fails the next sync publishes it again.
 */
export async function publishMessage(
  host: IntentHost,
  encoded: messageContents.EncodedContent,
  shouldPush: boolean,
  key: string | undefined,
): Promise<string> {
  const { ctx, localKey } = host;
  const { store } = ctx;
  const encodedBytes = encode(messageContents.EncodedContentSchema, encoded);
  const sentAtNs = ctx.nowNs();
  const idempotencyKey = key ?? sentAtNs.toString();
  const id = messageId(localKey, idempotencyKey, encodedBytes);
  const before = host.state();
  let result;
  try {
    result = await encryptMessage(before, encodeEnvelope(encodedBytes, idempotencyKey));
  } catch (error) {
    if (isMlsError(error) && error.code === "mls.usage") throw new ClientError("client.usage", "cannot send in this group", { cause: error });
    throw error;
  }
  const row = host.row();
  const hash = sha256(result.message);
  const intentId = store.transaction(() => {
    store.updateGroup(localKey, encodeGroupState(result.state), row.cursor);
    store.addOwnPayload(hash, localKey);
    store.insertMessage({
      id,
      groupId: localKey,
      senderInboxId: ctx.inboxId,
      sentAtNs,
      contentType: contentTypeString(encoded.type),
      encodedContent: encodedBytes,
      cursor: 0n,
    });
    return store.insertIntent({
      groupId: localKey,
      operation: { kind: "message", params: { encodedContent: encodedBytes, idempotencyKey, shouldPush } },
      baseEpoch: before.epoch,
      payloadHash: hash,
      payload: result.message,
      stagedState: undefined,
      welcome: undefined,
      recipients: undefined,
    });
  });
  // The new ratchet state is stored: the secret it used is gone from memory too.
  eraseConsumed(result.consumed);
  store.scrub();
  await call("SendGroupMessages", () => ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(result.message, shouldPush)] }));
  // The node has it: nothing to resend, only to recognise when it comes back.
  store.setIntentState(intentId, "acknowledged");
  return id;
}

/**
 * Builds the intent's commit on the current epoch, writes it as an intent
 * (with the state it leads to and its welcome), publishes it, and syncs:
 * merged if it came first in the node's order, rebuilt on the new epoch if
 * not; welcomes go out once it is confirmed.
 *
 * @throws ClientError `client.publish_failed` after three lost epochs;
 *   `client.permission_denied`, `client.usage`, `client.identity` (a rule
 *   the members would refuse it by) before anything is sent.
 */
export async function publishCommit(host: IntentHost, spec: IntentSpec): Promise<void> {
  const { ctx, localKey } = host;
  const { store } = ctx;
  host.assertNotPaused();
  for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt += 1) {
    await host.syncEnvelopes();
    const state = host.state();
    // One authenticator for the build and the check: the logs the plan read are the ones it is judged by.
    const authenticate = identityAuthenticator(ctx.api, ctx.inboxLogs);
    const result = await buildIntentCommit(ctx, spec, state, authenticate);
    if (result === undefined) return;
    assertOwnCommitAllowed(state, result.state, ctx.inboxId);
    // Every rule a receiver applies, by the receivers' own code: never publish what they refuse.
    await assertOwnCommitPasses(ctx, authenticate.histories, state, result);
    const hash = sha256(result.commit);
    const id = store.transaction(() => {
      // The current epoch's state moves past the handshake generation the
      // commit used: a rebuild in this epoch never takes it again (RFC 9420 9.2).
      store.updateGroup(localKey, encodeGroupState(result.sent), host.row().cursor);
      store.addOwnPayload(hash, localKey);
      return store.insertIntent({
        groupId: localKey,
        operation: spec,
        baseEpoch: state.epoch,
        payloadHash: hash,
        payload: result.commit,
        stagedState: encodeGroupState(result.state),
        welcome: result.welcome,
        recipients: recipientsOf(result),
      });
    });
    // The state the commit leads to is stored, and the old one stays in the
    // store until the commit wins: the in-memory copies of what it used up go.
    eraseConsumed(result.consumed);
    await call("SendGroupMessages", () => ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(result.commit, false)] }));
    store.setIntentState(id, "acknowledged");
    const outcome = await settle(host, id);
    if (outcome === "done" || outcome === "committed") return;
    if (outcome !== "lost") {
      throw new ClientError("client.publish_failed", "the node has not shown our commit back yet: a later sync settles it");
    }
    // Another commit closed the epoch: this attempt is replaced by the next.
    store.setIntentState(id, "superseded");
  }
  throw new ClientError("client.publish_failed", `a commit lost its epoch ${MAX_PUBLISH_ATTEMPTS} times`);
}

/** Syncs until the node's order decides the intent's epoch, or the waits run out; @returns its state then. */
async function settle(host: IntentHost, id: bigint): Promise<IntentState | undefined> {
  const { store } = host.ctx;
  await host.syncEnvelopes();
  for (const ms of SETTLE_WAITS_MS) {
    const state = store.intent(id)?.state;
    if (state !== "published" && state !== "acknowledged") return state;
    await delay(ms);
    await host.syncEnvelopes();
  }
  return store.intent(id)?.state;
}

/**
 * Commits of ours still waiting whose epoch another commit closed (the
 * group's state is past their base epoch): they lost, even if the node
 * never showed them. Called after a sync has applied what the node showed.
 */
export function loseOvertaken(ctx: ClientContext, localKey: Uint8Array, epoch: bigint): void {
  const { store } = ctx;
  for (const intent of [...store.intents(localKey, "published"), ...store.intents(localKey, "acknowledged")]) {
    if (intent.operation.kind !== "message" && intent.baseEpoch < epoch) store.decideIntent(intent.id, "lost");
  }
}

/**
 * Post-commit actions of our commits that won (their welcomes), then the
 * intent is done and its staged secrets are dropped. A failure leaves it
 * committed, and the next sync sends again: a joiner takes a group once,
 * however many welcomes name it.
 */
export async function finishCommitted(ctx: ClientContext, localKey: Uint8Array): Promise<void> {
  for (const intent of ctx.store.intents(localKey, "committed")) {
    await sendIntentWelcomes(ctx, intent);
    ctx.store.setIntentState(intent.id, "done");
  }
}

/**
 * After a restart: an intent published but never acknowledged is sent
 * again while the group stays on its epoch (the node may never have got it;
 * the same bytes, so a second copy is recognised as ours); a commit whose
 * epoch is still open stays waiting; one that lost its epoch (loseOvertaken)
 * is regenerated on the current epoch.
 */
export async function resumeIntents(host: IntentHost): Promise<void> {
  const { ctx, localKey } = host;
  const { store } = ctx;
  for (const intent of store.intents(localKey, "published")) {
    if (intent.operation.kind === "message") {
      await republishMessage(host, intent, intent.operation.params);
      continue;
    }
    if (host.state().epoch === intent.baseEpoch && intent.payload !== undefined) {
      const payload = intent.payload;
      await call("SendGroupMessages", () => ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(payload, false)] }));
      store.setIntentState(intent.id, "acknowledged");
      await host.syncEnvelopes();
    }
  }
  for (const intent of store.intents(localKey, "lost")) {
    store.setIntentState(intent.id, "superseded");
    // A lost key update is moot once any commit of ours has landed since.
    if (intent.operation.kind === "key_update" && !keyUpdateDue(ctx, localKey)) continue;
    if (host.isMember(host.state())) await publishCommit(host, intentSpecOf(intent));
  }
}

/**
 * A message of ours the node never got: the same ciphertext again while
 * receivers still read its epoch (MAX_PAST_EPOCHS), else the same content
 * and idempotency key (so the same message id) encrypted anew.
 */
async function republishMessage(host: IntentHost, intent: IntentRow, params: MessageIntent["params"]): Promise<void> {
  const { ctx, localKey } = host;
  const { store } = ctx;
  let payload = intent.payload;
  const state = host.state();
  if (payload === undefined || state.epoch - intent.baseEpoch > BigInt(MAX_PAST_EPOCHS)) {
    if (!host.isMember(state)) {
      store.deleteIntent(intent.id);
      return;
    }
    const result = await encryptMessage(state, encodeEnvelope(params.encodedContent, params.idempotencyKey));
    const hash = sha256(result.message);
    const fresh = result.message;
    store.transaction(() => {
      store.updateGroup(localKey, encodeGroupState(result.state), host.row().cursor);
      store.addOwnPayload(hash, localKey);
      store.deleteIntent(intent.id);
      store.insertIntent({ ...intent, baseEpoch: state.epoch, payloadHash: hash, payload: fresh });
    });
    eraseConsumed(result.consumed);
    payload = fresh;
  }
  const data = payload;
  await call("SendGroupMessages", () => ctx.api.mls.sendGroupMessages({ messages: [groupMessageInput(data, params.shouldPush)] }));
  const sent = store.intentByHash(localKey, sha256(data));
  if (sent?.state === "published") store.setIntentState(sent.id, "acknowledged");
}
