// What an envelope means, decided without a node or a store: group states
// made with @parley/mls directly, envelopes made from them, and the outcome
// process-envelope.ts returns for each.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  asInboxId,
  createGroup,
  createKeyPackage,
  ed25519Keygen,
  encodeGroupState,
  encryptMessage,
  joinFromWelcome,
  updateMembership,
  type GroupState,
  type InboxId,
  type KeyPackageBundle,
} from "@parley/mls";
import { encode, messageContents } from "@parley/proto";
import { ClientError } from "../client-error.js";
import { encodeEnvelope, encodeText, messageId } from "../content/text-codec.js";
import type { IdentityAuthenticator } from "../identity/identity-lookup.js";
import type { IntentRow } from "../store/local-store.js";
import { encodeMembership, newGroupExtensions } from "./group-metadata.js";
import { processEnvelope, type Envelope, type EnvelopeContext } from "./process-envelope.js";

interface Member {
  readonly inboxId: InboxId;
  readonly bundle: KeyPackageBundle;
  readonly privateKey: Uint8Array;
}

async function member(name: string): Promise<Member> {
  const inboxId = asInboxId(name.repeat(64).slice(0, 64));
  const { signKey } = ed25519Keygen();
  return { inboxId, privateKey: signKey, bundle: await createKeyPackage({ inboxId, privateKey: signKey }) };
}

/** Says yes to every member; `failure` is what networkFailure() reports. */
function authenticator(failure?: ClientError): IdentityAuthenticator {
  return Object.assign(() => Promise.resolve(true), {
    networkFailure: () => failure,
    histories: () => Promise.resolve(new Map()),
  });
}

const text = (t: string, key: string) => encodeEnvelope(encode(messageContents.EncodedContentSchema, encodeText(t)), key);

describe("processEnvelope", () => {
  let alice: Member;
  let bob: Member;
  let alices: GroupState;
  let bobs: GroupState;
  let n = 0n;
  const envelope = (data: Uint8Array): Envelope => ({ id: (n += 1n), createdNs: 1_000n + n, data });
  const bobsView = (overrides: Partial<EnvelopeContext> = {}): EnvelopeContext => ({
    localKey: bobs.groupId,
    ownInboxId: bob.inboxId,
    ownInstallationKey: bob.bundle.installationKey,
    authenticate: authenticator(),
    ownIntent: undefined,
    ownPayload: false,
    nowNs: BigInt(Date.now()) * 1_000_000n,
    ...overrides,
  });

  before(async () => {
    [alice, bob] = await Promise.all([member("a"), member("b")]);
    const created = await createGroup({ signer: alice, extensions: newGroupExtensions(alice.inboxId, {}), authenticate: () => true });
    const added = await updateMembership(created, {
      add: [bob.bundle.keyPackage],
      membership: encodeMembership(new Map([[alice.inboxId, 0n], [bob.inboxId, 0n]])),
      authenticate: () => true,
    });
    alices = added.state;
    bobs = (
      await joinFromWelcome({
        welcome: added.welcome!,
        keyPackage: bob.bundle.keyPackage,
        privateKeyPackage: bob.bundle.privateKeyPackage,
        authenticate: () => true,
      })
    ).state;
  });

  it("a member's message: applied, with the message to list under the node's time and cursor", async () => {
    const sent = await encryptMessage(alices, text("hello", "k1"));
    alices = sent.state;
    const env = envelope(sent.message);
    const outcome = await processEnvelope(bobs, env, bobsView());
    assert.equal(outcome.kind, "applied");
    assert.ok(outcome.kind === "applied" && outcome.message);
    assert.equal(outcome.message.senderInboxId, alice.inboxId);
    assert.equal(outcome.message.sentAtNs, env.createdNs);
    assert.equal(outcome.message.cursor, env.id);
    assert.notEqual(outcome.state, bobs, "the ratchet moved");
    bobs = outcome.state;
  });

  it("the same message again: refused as a replay, and the state stays", async () => {
    const sent = await encryptMessage(alices, text("once", "k2"));
    alices = sent.state;
    const first = await processEnvelope(bobs, envelope(sent.message), bobsView());
    assert.ok(first.kind === "applied");
    bobs = first.state;
    const again = await processEnvelope(bobs, envelope(sent.message), bobsView());
    assert.deepEqual(again.kind === "refused" && again.refusal.code, "refused.replayed");
  });

  it("bytes that are no MLS message: refused as undecryptable", async () => {
    const outcome = await processEnvelope(bobs, envelope(new Uint8Array([1, 2, 3])), bobsView());
    assert.equal(outcome.kind === "refused" && outcome.refusal.code, "refused.undecryptable");
  });

  it("a failure met while looking up identity state: retry, not a refusal", async () => {
    const lost = new ClientError("client.network", "unreachable");
    const outcome = await processEnvelope(bobs, envelope(new Uint8Array([1, 2, 3])), bobsView({ authenticate: authenticator(lost) }));
    assert.equal(outcome.kind, "retry");
    assert.equal(outcome.kind === "retry" && outcome.error, lost);
  });

  it("our own message coming back: recognised by its intent, with the id it was listed under", async () => {
    const intent = { id: 7n, operation: { kind: "message", params: { encodedContent: new Uint8Array([9]), idempotencyKey: "mine", shouldPush: true } } };
    const outcome = await processEnvelope(bobs, envelope(new Uint8Array([0])), bobsView({ ownIntent: intent as unknown as IntentRow }));
    assert.deepEqual(outcome, { kind: "own_message", intentId: 7n, messageId: messageId(bobs.groupId, "mine", new Uint8Array([9])) });
  });

  it("our own commit: won while the state is at the epoch it was built on, lost once the epoch moved", async () => {
    const staged = encodeGroupState(bobs);
    const commit = (baseEpoch: bigint) =>
      ({ id: 8n, baseEpoch, stagedState: staged, operation: { kind: "key_update", params: {} } }) as unknown as IntentRow;
    const won = await processEnvelope(bobs, envelope(new Uint8Array([0])), bobsView({ ownIntent: commit(bobs.epoch) }));
    assert.ok(won.kind === "own_commit" && won.won !== undefined);
    assert.equal(won.won.state.epoch, bobs.epoch);
    const lost = await processEnvelope(bobs, envelope(new Uint8Array([0])), bobsView({ ownIntent: commit(bobs.epoch - 1n) }));
    assert.deepEqual(lost, { kind: "own_commit", intentId: 8n });
  });

  it("a payload we published whose intent is gone: skipped", async () => {
    const outcome = await processEnvelope(bobs, envelope(new Uint8Array([1, 2, 3])), bobsView({ ownPayload: true }));
    assert.deepEqual(outcome, { kind: "skip" });
  });

  it("anything, once we are no longer a member: skipped, never processed", async () => {
    const outsider = await member("c");
    const sent = await encryptMessage(alices, text("not for outsiders", "k3"));
    const outcome = await processEnvelope(bobs, envelope(sent.message), bobsView({ ownInstallationKey: outsider.bundle.installationKey }));
    assert.deepEqual(outcome, { kind: "skip" });
  });
});
