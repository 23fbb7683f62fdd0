// The one place where what an envelope meant (process-envelope.ts) is
// written to the store. State, cursor, messages and intents move in one
// transaction, so a crash leaves all of an envelope's effects or none, and a
// restart resumes from a cursor that matches the state.
import { encodeGroupState, eraseConsumed, type GroupState } from "@parley/mls";
import type { ClientContext } from "../client-context.js";
import { retryOrGiveUp } from "../incoming/incoming-failure.js";
import { logRefused } from "../logging.js";
import { recordCommit } from "./commit-log.js";
import type { Envelope, EnvelopeOutcome, Refusal } from "./process-envelope.js";

export interface Applied {
  /** The group's state after the envelope (the same object when it did not change). */
  readonly state: GroupState;
  /** Stop the sync here: the group waits before this envelope. */
  readonly stop: boolean;
}

/**
 * Writes `outcome` of `envelope` on top of `state`.
 *
 * @throws the outcome's error for `retry`: the cursor stays before the
 *   envelope, and the next sync takes it again; unless the node failed it
 *   too often (retryOrGiveUp), when it is refused and the cursor moves on.
 */
export function applyOutcome(ctx: ClientContext, localKey: Uint8Array, state: GroupState, envelope: Envelope, outcome: EnvelopeOutcome): Applied {
  const { store } = ctx;
  const log = (refusal: Refusal) => {
    const fields = {
      groupId: Buffer.from(localKey).toString("hex"),
      cursor: envelope.id,
      ...(refusal.reason === undefined ? {} : { reason: refusal.reason }),
      cause: refusal.cause,
    };
    logRefused(ctx.logger, refusal.code, fields, refusal.level);
    if (refusal.cloned !== undefined) ctx.clones.report({ evidence: refusal.cloned, groupId: fields.groupId, cursor: envelope.id });
  };
  switch (outcome.kind) {
    case "retry": {
      const verdict = retryOrGiveUp(outcome.error, store.attemptLedger("group_message", localKey, envelope.id), ctx.nowNs());
      if (verdict.action === "retry") throw outcome.error;
      store.setCursor(localKey, envelope.id);
      log({ code: verdict.code, reason: `the node failed it ${verdict.count} times`, cause: outcome.error, level: "warn" });
      return { state, stop: false };
    }
    case "paused":
      store.setPausedForVersion(localKey, outcome.version);
      log(outcome.refusal);
      return { state, stop: true };
    case "skip":
      store.setCursor(localKey, envelope.id);
      return { state, stop: false };
    case "refused":
      store.setCursor(localKey, envelope.id);
      log(outcome.refusal);
      return { state, stop: false };
    case "own_message":
      store.transaction(() => {
        store.setCursor(localKey, envelope.id);
        // As the official client: the node's time once published, the time
        // every receiver shows.
        store.markMessagePublished(outcome.messageId, envelope.createdNs, envelope.id);
        // Delivered: nothing of it is needed any more.
        store.deleteIntent(outcome.intentId);
      });
      return { state, stop: false };
    case "own_commit": {
      const { won } = outcome;
      store.transaction(() => {
        if (won === undefined) store.setCursor(localKey, envelope.id);
        else store.updateGroup(localKey, won.staged, envelope.id);
        store.decideIntent(outcome.intentId, won === undefined ? "lost" : "committed", envelope.id);
        if (won !== undefined) {
          store.setLastOwnCommitNs(localKey, ctx.nowNs());
          if (won.transcript !== undefined) store.insertMessage(won.transcript);
          recordCommit(ctx, localKey, state, won.state, envelope.id);
        }
      });
      return { state: won?.state ?? state, stop: false };
    }
    case "applied": {
      const { message } = outcome;
      store.transaction(() => {
        store.updateGroup(localKey, encodeGroupState(outcome.state), envelope.id);
        if (message !== undefined) store.insertMessage(message);
        recordCommit(ctx, localKey, state, outcome.state, envelope.id);
      });
      // Durable: what the old state used up is erased from memory as well
      // (a refused envelope erases nothing: its old state stays in use).
      eraseConsumed(outcome.consumed);
      if (outcome.refusal !== undefined) log(outcome.refusal);
      return { state: outcome.state, stop: false };
    }
  }
}
