// Test helpers: a group made by hand with @parley/mls from an installation's
// own key (so exactly what a misbehaving client could make), with the
// members, metadata and group id its maker chooses, and its welcome wrapped
// and sent to each added installation through the node.
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { asInboxId, createGroup, privateInitKey, unwrapWelcome, updateMembership, validateKeyPackage, wrapWelcome, type XmtpGroupExtensions } from "@parley/mls";
import { mlsApi } from "@parley/proto";
import type { ApiClient } from "./api/api-client.js";
import { encodeMembership } from "./conversations/group-metadata.js";
import { fetchAssociationStates } from "./identity/identity-lookup.js";
import { LocalStore } from "./store/local-store.js";

export interface Maker {
  readonly inboxId: string;
  /** The installation's secret key, read from its store. */
  readonly secret: Uint8Array;
}

export interface Invitee {
  readonly inboxId: string;
  readonly installationIdBytes: Uint8Array;
}

/** An installation's own secret key, read while its client is open (WAL lets a second reader in). */
export function makerOf(inboxId: string, dbPath: string): Maker {
  const store = new LocalStore(dbPath);
  try {
    const installation = store.installation();
    assert.ok(installation);
    return { inboxId, secret: installation.installationSecret };
  } finally {
    store.close();
  }
}

/**
 * Makes a group as `maker` with `extensions`, adds one installation of each
 * invitee in one commit with the 0xFF01 map naming `mapped` (every inbox
 * at its current sequence id), and sends each invitee its welcome.
 *
 * @returns the group id.
 */
export async function sendForgedWelcome(
  api: ApiClient,
  maker: Maker,
  extensions: XmtpGroupExtensions,
  invitees: readonly Invitee[],
  options: { groupId?: Uint8Array; mapped?: readonly string[] } = {},
): Promise<Uint8Array> {
  const mapped = options.mapped ?? [maker.inboxId, ...invitees.map((i) => i.inboxId)];
  const seqs = await fetchAssociationStates(api, mapped);
  const keyPackages = await Promise.all(
    invitees.map(async (i) => (await api.mls.fetchKeyPackages({ installationKeys: [i.installationIdBytes] })).keyPackages[0]!.keyPackageTlsSerialized),
  );
  const state = await createGroup({
    signer: { inboxId: asInboxId(maker.inboxId), privateKey: maker.secret },
    extensions,
    authenticate: () => true,
    ...(options.groupId === undefined ? {} : { groupId: options.groupId }),
  });
  const added = await updateMembership(state, {
    add: keyPackages,
    membership: encodeMembership(new Map(mapped.map((id) => [id, seqs.get(id)?.sequenceId ?? 0n]))),
    authenticate: () => true,
  });
  assert.ok(added.welcome);
  for (const [n, invitee] of invitees.entries()) {
    const { initKey } = await validateKeyPackage(keyPackages[n]!);
    const wrapped = wrapWelcome(added.welcome, initKey, 0n);
    await api.mls.sendWelcomeMessages({
      messages: [create(mlsApi.WelcomeMessageInputSchema, { version: { case: "v1", value: { installationKey: invitee.installationIdBytes, ...wrapped } } })],
    });
  }
  return state.groupId;
}

/**
 * Delivers `invitee`'s newest welcome again, as a node that replays it
 * would. Our node stores each welcome's bytes once, so the same Welcome is
 * opened with the invitee's key (read from its store) and wrapped afresh to
 * the same key package with the same cursor: the invitee gets the very
 * Welcome it already took, at a later position of its welcome topic.
 */
export async function replayNewestWelcome(api: ApiClient, invitee: Invitee, inviteeDbPath: string): Promise<void> {
  const all = (await api.mls.queryWelcomeMessages({ installationKey: invitee.installationIdBytes })).messages;
  const newest = all.flatMap((m) => (m.version.case === "v1" ? [m.version.value] : [])).sort((a, b) => Number(b.id - a.id))[0];
  assert.ok(newest);
  const store = new LocalStore(inviteeDbPath);
  let keys;
  try {
    keys = store.keyPackage(newest.hpkePublicKey);
  } finally {
    store.close();
  }
  assert.ok(keys, "the invitee still holds the key package's private half");
  const opened = unwrapWelcome(newest, privateInitKey(keys.privateKeyPackage));
  const wrapped = wrapWelcome(opened.welcome, newest.hpkePublicKey, opened.messageCursor ?? 0n);
  await api.mls.sendWelcomeMessages({
    messages: [create(mlsApi.WelcomeMessageInputSchema, { version: { case: "v1", value: { installationKey: invitee.installationIdBytes, ...wrapped } } })],
  });
}
