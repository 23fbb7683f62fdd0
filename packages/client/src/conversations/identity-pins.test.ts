// The pin verdict as a table (no node): each case of identity-pins.ts, for
// a log of two entries (sequence ids 10 and 20, written at node times 100 s
// and 300 s) and a change sent at node time 150 s. The attacks themselves
// run through the client in ../identity-pins.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AssociationState } from "@parley/identity";
import type { InboxHistory } from "../identity/inbox-history.js";
import { PIN_GRACE_NS, PIN_WAIT_NS, pinsViolation, resolvePin, type PinTiming } from "./identity-pins.js";

const S = 1_000_000_000n;
const state = (name: string) => ({ name }) as unknown as AssociationState;
const entries = [
  { sequenceId: 10n, serverTimestampNs: 100n * S, state: state("at 10") },
  { sequenceId: 20n, serverTimestampNs: 300n * S, state: state("at 20") },
];

function historyOf(list: typeof entries): InboxHistory {
  const last = list.at(-1)!;
  return {
    inboxId: "inbox",
    latest: last.state,
    last,
    at: (seq) => list.findLast((e) => e.sequenceId <= seq)?.state,
    entry: (seq) => list.find((e) => e.sequenceId === seq),
    everHad: () => false,
  };
}

const sent = 150n * S;
const soon: PinTiming = { sentNs: sent, nowNs: sent + S };
const late: PinTiming = { sentNs: sent, nowNs: sent + PIN_WAIT_NS + S };
const full = historyOf(entries);
const first = historyOf(entries.slice(0, 1));

/** The state's name, "pending", or the refusal's reason. */
const cases: [string, InboxHistory | undefined, bigint, PinTiming, string][] = [
  ["an entry written before the change", full, 10n, soon, "at 10"],
  ["an entry written within the grace after it", full, 20n, { sentNs: 300n * S - PIN_GRACE_NS, nowNs: 300n * S }, "at 20"],
  ["an entry written past the grace", full, 20n, soon, "a sequence id names an entry written after the change"],
  ["0", full, 0n, soon, "a new sequence id of 0 names no entry"],
  ["between two entries", full, 15n, soon, "a sequence id names no entry of its inbox's log"],
  ["below the first entry", full, 5n, soon, "a sequence id names no entry of its inbox's log"],
  ["past the log, its last entry older than the change, within the wait", first, 2n ** 63n, soon, "pending"],
  ["past the log, after the wait", first, 2n ** 63n, late, "a sequence id past its inbox's log"],
  ["past the log, its last entry written past the grace", full, 2n ** 63n, soon, "a sequence id past its inbox's log"],
  ["an inbox with no log, within the wait", undefined, 10n, soon, "pending"],
  ["an inbox with no log, after the wait", undefined, 10n, late, "a sequence id past its inbox's log"],
];

describe("@parley/client: what a membership pin names", () => {
  for (const [name, history, pin, timing, expected] of cases) {
    it(name, () => {
      const verdict = resolvePin(history, pin, timing);
      const got = verdict.kind === "state" ? (verdict.state as unknown as { name: string }).name : verdict.kind === "pending" ? "pending" : verdict.reason;
      assert.equal(got, expected);
    });
  }

  it("several pins: a refusal before a pending one, a pending one before none", () => {
    const histories = new Map([["a", full], ["b", first]]);
    assert.deepEqual(pinsViolation([["b", 2n ** 63n], ["a", 15n]], histories, soon), { refused: "a sequence id names no entry of its inbox's log" });
    assert.deepEqual(pinsViolation([["a", 10n], ["b", 2n ** 63n]], histories, soon), { pending: "b" });
    assert.equal(pinsViolation([["a", 10n], ["b", 10n]], histories, soon), undefined);
  });
});
