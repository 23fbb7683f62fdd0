// Every kind of failure an input can meet, and what becomes of it: one table
// for group messages and welcomes alike.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Database from "better-sqlite3-multiple-ciphers";
import { IdentityError } from "@parley/identity";
import { MlsError, type MlsErrorCode } from "@parley/mls";
import { ProtoError } from "@parley/proto";
import { ClientError } from "../client-error.js";
import { classifyFailure, MAX_INPUT_ATTEMPTS, retryOrGiveUp, type Arrival, type InputAttempts, type RefusalCode } from "./incoming-failure.js";

/** better-sqlite3's own error, as the store throws it (a statement SQLite refuses). */
function sqliteError(): unknown {
  const db = new Database(":memory:");
  try {
    db.exec("INSERT INTO missing VALUES (1)");
  } catch (error) {
    return error;
  } finally {
    db.close();
  }
  throw new Error("expected SQLite to refuse");
}

const network = new ClientError("client.network", "node unreachable");
const mls = (code: MlsErrorCode) => new MlsError(code, "refused");

type Expected = { action: "retry" } | { action: "refuse" | "bug"; code: RefusalCode };

// [what failed, the error, a network failure seen during the identity lookup, group message, welcome]
const table: [string, unknown, ClientError | undefined, Expected, Expected][] = [
  ["the node, while we fetched", network, undefined, { action: "retry" }, { action: "retry" }],
  ["an identity lookup, which the engine reported as a refusal", mls("mls.unauthenticated_member"), network, { action: "retry" }, { action: "retry" }],
  ["a refusal of the node's (its rate limit, its answer limit)", new ClientError("client.node_refused", "RESOURCE_EXHAUSTED"), undefined, { action: "retry" }, { action: "retry" }],
  ["the node, past its deadline", new ClientError("client.timeout", "no answer"), undefined, { action: "retry" }, { action: "retry" }],
  ["the node, with an answer past the read limit", new ClientError("client.response_too_large", "4 GiB"), undefined, { action: "retry" }, { action: "retry" }],
  ["an identity lookup the node refused", mls("mls.unauthenticated_member"), new ClientError("client.node_refused", "refused"), { action: "retry" }, { action: "retry" }],
  ["our store", new ClientError("client.bad_store", "locked"), undefined, { action: "retry" }, { action: "retry" }],
  ["an identity log that does not reach a pin yet", new ClientError("client.identity_pending", "not yet"), undefined, { action: "retry" }, { action: "retry" }],
  ["SQLite itself", sqliteError(), undefined, { action: "retry" }, { action: "retry" }],
  ["decryption", mls("mls.decrypt_failed"), undefined, { action: "refuse", code: "refused.undecryptable" }, { action: "refuse", code: "refused.welcome" }],
  ["a signature", mls("mls.bad_signature"), undefined, { action: "refuse", code: "refused.undecryptable" }, { action: "refuse", code: "refused.welcome" }],
  ["framing", mls("mls.malformed"), undefined, { action: "refuse", code: "refused.undecryptable" }, { action: "refuse", code: "refused.welcome" }],
  ["a replayed generation", mls("mls.ratchet_window"), undefined, { action: "refuse", code: "refused.replayed" }, { action: "refuse", code: "refused.welcome" }],
  ["the epoch", mls("mls.wrong_epoch"), undefined, { action: "refuse", code: "refused.wrong_epoch" }, { action: "refuse", code: "refused.welcome" }],
  ["a member's identity", mls("mls.unauthenticated_member"), undefined, { action: "refuse", code: "refused.commit" }, { action: "refuse", code: "refused.welcome" }],
  ["a key package's lifetime", mls("mls.expired_key_package"), undefined, { action: "refuse", code: "refused.commit" }, { action: "refuse", code: "refused.welcome" }],
  ["an MLS rule", mls("mls.invalid"), undefined, { action: "refuse", code: "refused.undecryptable" }, { action: "refuse", code: "refused.welcome" }],
  ["XMTP's extensions", new ProtoError("proto.malformed", "bad"), undefined, { action: "refuse", code: "refused.commit" }, { action: "refuse", code: "refused.welcome" }],
  ["an identity log", new IdentityError("identity.bad_signature", "bad"), undefined, { action: "refuse", code: "refused.commit" }, { action: "refuse", code: "refused.welcome" }],
  ["XMTP's rules", new ClientError("client.identity", "not a member"), undefined, { action: "refuse", code: "refused.commit" }, { action: "refuse", code: "refused.welcome" }],
  ["the content", new ClientError("client.bad_content", "garbage"), undefined, { action: "refuse", code: "refused.bad_content" }, { action: "refuse", code: "refused.welcome" }],
  ["our code", new TypeError("x is undefined"), undefined, { action: "bug", code: "refused.bug" }, { action: "bug", code: "refused.bug" }],
  ["our code, throwing a non-error", "oops", undefined, { action: "bug", code: "refused.bug" }, { action: "bug", code: "refused.bug" }],
];

describe("classifyFailure: one decision for everything that arrives", () => {
  for (const [what, error, networkFailure, asMessage, asWelcome] of table) {
    for (const [arrival, expected] of [["group_message", asMessage], ["welcome", asWelcome]] as [Arrival, Expected][]) {
      it(`${what}, in a ${arrival}: ${expected.action}${"code" in expected ? ` (${expected.code})` : ""}`, () => {
        const decision = classifyFailure(error, arrival, networkFailure);
        assert.equal(decision.action, expected.action);
        if (decision.action === "retry") {
          assert.equal(decision.error.name, "ClientError");
          if (networkFailure !== undefined) assert.equal(decision.error, networkFailure);
        } else {
          assert.equal(decision.code, (expected as { code: RefusalCode }).code);
          assert.equal(decision.cause, error);
        }
      });
    }
  }
});

describe("retryOrGiveUp: the node's failures of one input are retried a bounded number of times, spaced", () => {
  const MINUTE = 60_000_000_000n;
  const ledger = () => {
    let kept: InputAttempts | undefined;
    return { attempts: () => kept, record: (a: InputAttempts) => void (kept = a) };
  };
  const refused = new ClientError("client.node_refused", "RESOURCE_EXHAUSTED");

  it("gives up at the sixth failure counted 1, 2, 4, 8 and 16 minutes apart, not before", () => {
    const l = ledger();
    let now = 1_000n * MINUTE;
    for (const wait of [1n, 2n, 4n, 8n, 16n]) {
      assert.deepEqual(retryOrGiveUp(refused, l, now), { action: "retry" });
      now += wait * MINUTE - 1n;
      // Just short of the spacing: not counted.
      assert.deepEqual(retryOrGiveUp(refused, l, now), { action: "retry" });
      now += 1n;
    }
    assert.deepEqual(retryOrGiveUp(refused, l, now), { action: "give_up", code: "refused.retries_exhausted", count: MAX_INPUT_ATTEMPTS });
  });

  it("a burst of failures, or a clock gone back, counts once", () => {
    const l = ledger();
    for (let i = 0; i < 100; i++) retryOrGiveUp(refused, l, 10n * MINUTE);
    retryOrGiveUp(refused, l, 5n * MINUTE);
    assert.equal(l.attempts()?.count, 1);
  });

  it("our own failures (the store, a pin within its wait) are retried without a count", () => {
    const l = ledger();
    for (const error of [new ClientError("client.bad_store", "locked"), new ClientError("client.identity_pending", "not yet")]) {
      for (let i = 0; i < 10; i++) assert.deepEqual(retryOrGiveUp(error, l, BigInt(i) * 60n * MINUTE), { action: "retry" });
    }
    assert.equal(l.attempts(), undefined);
  });
});
