// Random histories of one inbox (fast-check): updates signed by a small cast
// of wallets and installations, some by the right signers and some not.
// Whatever the history, validation returns a result rather than throwing,
// every accepted state keeps the invariants of the rules, and replaying the
// accepted updates as a log gives the state reached step by step.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { deriveInboxId } from "../inbox-id.js";
import { memberKey, sameMember, type MemberIdentifier } from "../member.js";
import { signedUpdate, testInstallation, testWallet, type TestSigner } from "../identity.test-util.js";
import type { ActionRequest } from "../update/signature-request.js";
import { isMember, type AssociationState } from "./association-state.js";
import { replayInbox, validateIdentityUpdate } from "./replay-inbox.js";

const owner = testWallet("p0");
const wallets = [owner, testWallet("p1"), testWallet("p2")];
const cast: TestSigner[] = [...wallets, testInstallation("p3"), testInstallation("p4"), testInstallation("p5")];
const inboxId = deriveInboxId(owner.member, 0n);

/** The kinds of step accepted over all runs. */
const accepted: string[] = [];
const who = fc.integer({ min: 0, max: cast.length - 1 });
const wallet = fc.integer({ min: 0, max: wallets.length - 1 });
type Step =
  | { type: "add"; member: number; by: number }
  | { type: "revoke"; member: number; by: number }
  | { type: "recover"; to: number; by: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  // Mostly signed by the owner, so that additions get through and build a tree.
  fc.record({ type: fc.constant("add" as const), member: who, by: fc.oneof(fc.constant(0), who) }),
  fc.record({ type: fc.constant("add" as const), member: who, by: fc.oneof(fc.constant(0), who) }),
  fc.record({ type: fc.constant("revoke" as const), member: who, by: wallet }),
  fc.record({ type: fc.constant("recover" as const), to: wallet, by: wallet }),
);

function at<T>(list: readonly T[], i: number): T {
  const found = list[i];
  if (found === undefined) throw new Error("index out of range");
  return found;
}

function plan(s: Step): { actions: ActionRequest[]; signers: TestSigner[] } {
  switch (s.type) {
    case "add": {
      const member = at(cast, s.member);
      const by = at(cast, s.by);
      if (s.member === s.by) return { actions: [], signers: [] };
      return { actions: [{ type: "addAssociation", newMember: member.member, existingMember: by.member }], signers: [by, member] };
    }
    case "revoke": {
      const by = at(wallets, s.by);
      return { actions: [{ type: "revokeAssociation", member: at(cast, s.member).member, recoveryIdentifier: by.member }], signers: [by] };
    }
    case "recover": {
      const by = at(wallets, s.by);
      return { actions: [{ type: "changeRecoveryAddress", newRecoveryIdentifier: at(wallets, s.to).member, recoveryIdentifier: by.member }], signers: [by] };
    }
  }
}

function assertInvariants(state: AssociationState): void {
  for (const member of state.members.values()) {
    if (member.identifier.kind === "installation") {
      assert.notEqual(member.addedBy?.kind, "installation", "an installation added by an installation");
    }
    if (member.addedBy === undefined) assert.ok(sameMember(member.identifier, owner.member), "only the creator has no parent");
    assert.equal(memberKey(member.identifier), [...state.members].find(([, m]) => m === member)?.[0]);
  }
}

describe("random histories of an inbox", () => {
  it("stay within the rules, and replay to the state reached step by step", async () => {
    const created = await signedUpdate(
      inboxId,
      [{ type: "createInbox", identifier: owner.member, nonce: 0n }],
      [owner],
    );
    const first = await validateIdentityUpdate(undefined, created.toBytes(), { sequenceId: 1n });
    assert.ok(first.ok);
    let time = 1_900_000_000_000_000_000n;

    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        let state = first.value.state;
        const log = [{ sequenceId: 1n, update: created.toBytes() }];
        for (const s of steps) {
          const { actions, signers } = plan(s);
          if (actions.length === 0) continue;
          const bytes = (await signedUpdate(inboxId, actions, signers, (time += 1_000_000_000n))).toBytes();
          const sequenceId = BigInt(log.length + 1);
          const result = await validateIdentityUpdate(state, bytes, { sequenceId });
          if (!result.ok) continue;
          const before = state;
          state = result.value.state;
          log.push({ sequenceId, update: bytes });
          accepted.push(s.type);
          assertInvariants(state);
          if (s.type === "recover") assert.ok(sameMember(before.recoveryIdentifier, at(wallets, s.by).member));
          if (s.type === "revoke") {
            const revoked: MemberIdentifier = at(cast, s.member).member;
            assert.equal(isMember(state, revoked), false);
          }
        }
        const replayed = await replayInbox(log);
        assert.ok(replayed.ok);
        assert.deepEqual(replayed.value.members, state.members);
        assert.deepEqual(replayed.value.recoveryIdentifier, state.recoveryIdentifier);
      }),
      // A fixed seed: the floor below is about how often each kind of step
      // gets through, which a random seed made fail about one run in ten.
      // PARLEY_FC_SEED explores other histories.
      { numRuns: 40, seed: Number(process.env["PARLEY_FC_SEED"] ?? 20261126) },
    );
    // Not vacuous: each kind of step was accepted some of the time.
    for (const type of ["add", "revoke", "recover"]) {
      assert.ok(accepted.filter((t) => t === type).length >= 3, `few accepted ${type} steps: ${accepted.filter((t) => t === type).length}`);
    }
  });
});
