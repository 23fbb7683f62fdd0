// Identity as the client reads it from the node (../shared/spec/xmtp-client.md
// section 6): inbox ids by address, and an inbox's association state
// replayed and verified here from its log, never taken on the node's word.
// The AuthenticateMember callback given to @parley/mls answers from it.
import {
  installationKeyFromBytes,
  installationMember,
  isMember,
  listInstallations,
  replayInbox,
  type AssociationState,
  type InboxId,
} from "@parley/identity";
import type { AuthenticateMember } from "@parley/mls";
import { associations } from "@parley/proto";
import { call, type ApiClient } from "../api/api-client.js";
import { ClientError } from "../client-error.js";

/** The inbox an address is associated with, if any. */
export async function inboxIdOf(api: ApiClient, address: string): Promise<string | undefined> {
  const response = await call("GetInboxIds", () =>
    api.identity.getInboxIds({
      requests: [{ identifier: address.toLowerCase(), identifierKind: associations.IdentifierKind.ETHEREUM }],
    }),
  );
  return response.responses[0]?.inboxId;
}

/**
 * The verified association states of the given inboxes (undefined for an
 * inbox with no log).
 *
 * @throws ClientError `client.network`, `client.identity` when a log does not verify.
 */
export async function fetchAssociationStates(api: ApiClient, inboxIds: readonly string[]): Promise<Map<string, AssociationState | undefined>> {
  const out = new Map<string, AssociationState | undefined>();
  if (inboxIds.length === 0) return out;
  const response = await call("GetIdentityUpdates", () =>
    api.identity.getIdentityUpdates({ requests: inboxIds.map((inboxId) => ({ inboxId, sequenceId: 0n })) }),
  );
  for (const inboxId of inboxIds) {
    const log = response.responses.find((r) => r.inboxId === inboxId)?.updates ?? [];
    if (log.length === 0) {
      out.set(inboxId, undefined);
      continue;
    }
    const entries = log.flatMap((e) => (e.update === undefined ? [] : [{ sequenceId: e.sequenceId, update: e.update }]));
    const replayed = await replayInbox(entries);
    if (!replayed.ok) throw new ClientError("client.identity", `the log of inbox ${inboxId} does not verify`, { cause: replayed.error });
    if (replayed.value.inboxId !== inboxId) throw new ClientError("client.bad_response", "the node returned another inbox's log");
    out.set(inboxId, replayed.value);
  }
  return out;
}

/** The installation keys (raw bytes) of an inbox's state. */
export function installationKeysOf(state: AssociationState): Uint8Array[] {
  return listInstallations(state).map((m) => Uint8Array.from(Buffer.from(m.identifier.key, "hex")));
}

/**
 * An AuthenticateMember that accepts a leaf only when its installation key
 * belongs to its inbox's current association state. States are fetched once
 * per inbox for the life of the returned function (one sync, one commit).
 */
export function identityAuthenticator(api: ApiClient): AuthenticateMember {
  const cache = new Map<string, Promise<AssociationState | undefined>>();
  return async ({ inboxId, installationKey }) => {
    let pending = cache.get(inboxId);
    if (pending === undefined) {
      pending = fetchAssociationStates(api, [inboxId]).then((m) => m.get(inboxId));
      cache.set(inboxId, pending);
    }
    const state = await pending;
    if (state === undefined) return false;
    return isMember(state, installationMember(installationKeyFromBytes(installationKey)));
  };
}

export type { InboxId };
