// The recovery reserve: a stolen installation publishes all it may, and the
// recovery identifier can still revoke it, everything it added, and move
// recovery; a log a node stored past the rule reads the same for everyone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IdentityErrorCode } from "../identity-error.js";
import type { InboxId } from "../ids.js";
import { registration, signedUpdate, testInstallation, testWallet, type TestSigner, type TestWallet } from "../identity.test-util.js";
import type { ActionRequest } from "../update/signature-request.js";
import { isMember, listIdentifiers, listInstallations, type AssociationState } from "./association-state.js";
import { maxIdentityUpdates, maxUpdatesWithoutRecovery, recoveryReservedUpdates } from "./recovery-reserve.js";
import { readLogEntry, replayInbox, validateIdentityUpdate, type IdentityUpdateLogEntry } from "./replay-inbox.js";

const owner = testWallet("reserve owner");
const heir = testWallet("reserve heir");
const phone = testInstallation("reserve phone");
const stolen = testInstallation("reserve stolen laptop");
const thiefDevice = testInstallation("reserve thief device");
const newPhone = testInstallation("reserve new phone");
const thiefWallet = (i: number) => testWallet(`reserve thief ${i}`);

let clock = 1_850_000_000_000_000_000n;
const tick = () => (clock += 1_000_000_000n);

async function update(inboxId: InboxId, actions: ActionRequest[], signers: TestSigner[]): Promise<Uint8Array> {
  return (await signedUpdate(inboxId, actions, signers, tick())).toBytes();
}

/** The stolen installation adds a wallet the thief made. */
const thiefAdds = (inboxId: InboxId, wallet: TestWallet) =>
  update(inboxId, [{ type: "addAssociation", newMember: wallet.member, existingMember: stolen.member }], [stolen, wallet]);

async function accepted(state: AssociationState | undefined, bytes: Uint8Array): Promise<AssociationState> {
  const result = await validateIdentityUpdate(state, bytes);
  if (!result.ok) assert.fail(`refused: ${result.error.code} ${result.error.message}`);
  return result.value.state;
}

async function refused(state: AssociationState, bytes: Uint8Array): Promise<IdentityErrorCode | undefined> {
  const result = await validateIdentityUpdate(state, bytes);
  return result.ok ? undefined : result.error.code;
}

/** The owner's inbox with its phone, and the laptop the thief will hold: two updates, both the owner's. */
async function ownersInbox(): Promise<{ inboxId: InboxId; state: AssociationState; log: Uint8Array[] }> {
  const { inboxId, bytes } = await registration(owner, phone);
  const addLaptop = await update(inboxId, [{ type: "addAssociation", newMember: stolen.member, existingMember: owner.member }], [owner, stolen]);
  return { inboxId, state: await accepted(await accepted(undefined, bytes), addLaptop), log: [bytes, addLaptop] };
}

describe("the recovery reserve", () => {
  it("a stolen installation adds wallets until it can no longer; the owner revokes it and all it added in one update, and moves recovery", async () => {
    assert.equal(maxUpdatesWithoutRecovery + recoveryReservedUpdates, maxIdentityUpdates);
    const inbox = await ownersInbox();
    const inboxId = inbox.inboxId;
    let state = inbox.state;
    let added = 0;
    while (state.updateCount < maxUpdatesWithoutRecovery) state = await accepted(state, await thiefAdds(inboxId, thiefWallet(added++)));
    assert.equal(state.updateCount, maxUpdatesWithoutRecovery);
    assert.equal(listIdentifiers(state).length, added + 1);

    // Full, as far as the thief goes: another wallet, and a wallet it added adding a device of its own.
    assert.equal(await refused(state, await thiefAdds(inboxId, thiefWallet(added))), "identity.reserved_for_recovery");
    const walletAddsDevice = await update(
      inboxId,
      [{ type: "addAssociation", newMember: thiefDevice.member, existingMember: thiefWallet(0).member }],
      [thiefWallet(0), thiefDevice],
    );
    assert.equal(await refused(state, walletAddsDevice), "identity.reserved_for_recovery");

    // The owner revokes the laptop and every wallet the thief added, in one update the node takes (64 KiB).
    const revocations: ActionRequest[] = [stolen.member, ...Array.from({ length: added }, (_, i) => thiefWallet(i).member)].map(
      (member) => ({ type: "revokeAssociation", member, recoveryIdentifier: owner.member }),
    );
    const revokeAll = await update(inboxId, revocations, [owner]);
    assert.ok(revokeAll.length <= 64 * 1024, `${revokeAll.length} bytes`);
    state = await accepted(state, revokeAll);
    assert.deepEqual(listIdentifiers(state).map((m) => m.identifier), [owner.member]);
    assert.deepEqual(listInstallations(state).map((m) => m.identifier), [phone.member]);

    // What the laptop signs now is a stranger's.
    assert.equal(await refused(state, await thiefAdds(inboxId, thiefWallet(added + 1))), "identity.not_a_member");

    // The owner still moves recovery, and the new recovery identifier registers a device.
    state = await accepted(state, await update(inboxId, [{ type: "changeRecoveryAddress", newRecoveryIdentifier: heir.member, recoveryIdentifier: owner.member }], [owner]));
    state = await accepted(state, await update(inboxId, [{ type: "addAssociation", newMember: newPhone.member, existingMember: heir.member }], [heir, newPhone]));
    assert.ok(isMember(state, newPhone.member));
    assert.equal(state.updateCount, maxUpdatesWithoutRecovery + 3);
  });

  it("an update without the recovery identifier's signature holds one action, at any length of the log", async () => {
    const { inboxId, state } = await ownersInbox();
    const two = await update(
      inboxId,
      [
        { type: "addAssociation", newMember: thiefWallet(0).member, existingMember: stolen.member },
        { type: "addAssociation", newMember: thiefWallet(1).member, existingMember: stolen.member },
      ],
      [stolen, thiefWallet(0), thiefWallet(1)],
    );
    assert.equal(await refused(state, two), "identity.too_many_actions");
    // The owner's updates may hold several: here it adds a wallet and a device at once.
    const owners = await update(
      inboxId,
      [
        { type: "addAssociation", newMember: heir.member, existingMember: owner.member },
        { type: "addAssociation", newMember: newPhone.member, existingMember: owner.member },
      ],
      [owner, heir, newPhone],
    );
    await accepted(state, owners);
  });

  it("a log stored past the rule: the entries that break it change nothing, for every reader alike; a forged one still refuses the log", async () => {
    const { inboxId, log } = await ownersInbox();
    const entries: IdentityUpdateLogEntry[] = log.map((update, i) => ({ sequenceId: BigInt(i + 1), update }));
    const push = (update: Uint8Array) => entries.push({ sequenceId: BigInt(entries.length + 1) * 7n, update });
    // A node without the rule takes the thief's additions up to the cap, less the owner's revocation.
    for (let i = 0; entries.length < maxIdentityUpdates - 3; i++) push(await thiefAdds(inboxId, thiefWallet(i)));
    push(await update(inboxId, [{ type: "addAssociation", newMember: thiefDevice.member, existingMember: thiefWallet(0).member }], [thiefWallet(0), thiefDevice]));
    push(
      await update(
        inboxId,
        [
          { type: "addAssociation", newMember: heir.member, existingMember: phone.member },
          { type: "addAssociation", newMember: thiefWallet(999).member, existingMember: phone.member },
        ],
        [phone, heir, thiefWallet(999)],
      ),
    );
    push(await update(inboxId, [{ type: "revokeAssociation", member: stolen.member, recoveryIdentifier: owner.member }], [owner]));

    const replayed = await replayInbox(entries);
    if (!replayed.ok) assert.fail(`refused: ${replayed.error.code}`);
    const state = replayed.value;
    assert.equal(state.updateCount, maxIdentityUpdates, "every entry keeps its place");
    assert.equal(state.sequenceId, entries.at(-1)?.sequenceId);
    assert.deepEqual(listInstallations(state).map((m) => m.identifier), [phone.member], "the laptop revoked, the thief's device never added");
    const thiefWallets = listIdentifiers(state).filter((m) => m.identifier.kind === "ethereum" && m.identifier.address !== owner.member.address);
    assert.equal(thiefWallets.length, maxUpdatesWithoutRecovery - 2, "only the additions before the reserve");
    assert.equal(isMember(state, heir.member), false, "the two-action update changed nothing");

    // Entry by entry, as a client reads: each refused entry says why, and the states agree.
    let step: AssociationState | undefined;
    const disregarded: (IdentityErrorCode | undefined)[] = [];
    for (const entry of entries) {
      const read = await readLogEntry(step, entry);
      if (!read.ok) assert.fail(`refused: ${read.error.code}`);
      step = read.value.state;
      disregarded.push(read.value.disregarded);
    }
    assert.deepEqual([...(step?.members.keys() ?? [])].sort(), [...state.members.keys()].sort());
    assert.equal(disregarded.filter((d) => d === "identity.reserved_for_recovery").length, maxIdentityUpdates - maxUpdatesWithoutRecovery - 2);
    assert.equal(disregarded.at(-2), "identity.too_many_actions");
    assert.equal(disregarded.at(-1), undefined);

    // Past the reserve, an entry that is not even valid refuses the log as before.
    const forged = (await signedUpdate(inboxId, [{ type: "addAssociation", newMember: thiefWallet(500).member, existingMember: stolen.member }], [stolen, thiefWallet(500)], tick())).toProto();
    const add = forged.actions[0]?.kind;
    assert.ok(add?.case === "add" && add.value.existingMemberSignature?.signature.case === "installationKey");
    const signature = add.value.existingMemberSignature.signature.value;
    signature.bytes = signature.bytes.slice();
    signature.bytes[3] = (signature.bytes[3] ?? 0) ^ 1;
    const at = maxUpdatesWithoutRecovery + 1;
    const withForgery = entries.map((entry, i) => (i === at ? { sequenceId: entry.sequenceId, update: forged } : entry));
    const refusal = await replayInbox(withForgery);
    assert.equal(refusal.ok ? undefined : refusal.error.code, "identity.bad_signature");
  });
});
