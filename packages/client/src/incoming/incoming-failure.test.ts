// Every kind of failure an input can meet, and what becomes of it: one table
// for group messages and welcomes alike.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Database from "better-sqlite3-multiple-ciphers";
import { IdentityError } from "@parley/identity";
import { MlsError, type MlsErrorCode } from "@parley/mls";
import { ProtoError } from "@parley/proto";
import { ClientError } from "../client-error.js";
import { classifyFailure, type Arrival, type RefusalCode } from "./incoming-failure.js";

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
