// Identity as the client reads it from the node (../shared/spec/xmtp-client.md
// section 6): inbox ids by address, and an inbox's association state
// replayed and verified here from its log, never taken on the node's word.
// The AuthenticateMember callback given to @parley/mls answers from it.
import { listInstallations, type AssociationState, type InboxId } from "@parley/identity";
import type { AuthenticateMember } from "@parley/mls";
import { associations } from "@parley/proto";
import { call, isNodeFailure, type ApiClient } from "../api/api-client.js";
import type { ClientError } from "../client-error.js";
import { fetchInboxHistories, type InboxHistory, type InboxLogCache } from "./inbox-history.js";

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
 * inbox with no log), as of the end of each log.
 *
 * @throws ClientError `client.network`, `client.identity` when a log does not verify.
 */
export async function fetchAssociationStates(api: ApiClient, inboxIds: readonly string[]): Promise<Map<string, AssociationState | undefined>> {
  const histories = await fetchInboxHistories(api, inboxIds);
  return new Map([...histories].map(([inboxId, history]) => [inboxId, history?.latest]));
}

/** The installation keys (raw bytes) of an inbox's state. */
export function installationKeysOf(state: AssociationState): Uint8Array[] {
  return listInstallations(state).map((m) => Uint8Array.from(Buffer.from(m.identifier.key, "hex")));
}

/**
 * An AuthenticateMember that accepts a leaf only when its installation key
 * has belonged to its inbox at some point of the inbox's verified log.
 * Which point counts is the group's business: the sequence id pinned in
 * 0xFF01, known only once the commit or welcome is open, so the exact
 * checks run afterwards (conversations/membership-rules.ts). Checking the
 * latest state here instead would refuse what libxmtp accepts (a commit by,
 * or a welcome naming, an installation revoked after the group's pin) and
 * fork the group. Histories are fetched once per inbox for the life of the
 * returned function (one sync, one commit).
 */
export interface IdentityAuthenticator extends AuthenticateMember {
  /**
   * The failure of the node's (no answer, a refusal, an answer too large)
   * met while fetching a log, if any. The MLS engine turns a failed
   * callback into "not authenticated", but a member we could not look up is
   * not a member we refused: callers rethrow this instead, so that the
   * message or welcome is retried (a bounded number of times), not skipped
   * at once.
   */
  networkFailure(): ClientError | undefined;
  /**
   * Verified histories of these inboxes, from the same cache the callback
   * uses (one GetIdentityUpdates call for those not fetched yet): the
   * membership rules that run after the engine need the same logs, and
   * replaying each only once halves the cost of a join.
   */
  readonly histories: (inboxIds: readonly string[]) => Promise<Map<string, InboxHistory | undefined>>;
}

export function identityAuthenticator(api: ApiClient, logs?: InboxLogCache): IdentityAuthenticator {
  const cache = new Map<string, Promise<InboxHistory | undefined>>();
  let failure: ClientError | undefined;
  const remember = (error: unknown) => {
    if (isNodeFailure(error)) failure ??= error;
    throw error;
  };
  const histories = async (inboxIds: readonly string[]) => {
    const missing = [...new Set(inboxIds)].filter((id) => !cache.has(id));
    if (missing.length > 0) {
      const batch = fetchInboxHistories(api, missing, logs);
      for (const id of missing) cache.set(id, batch.then((m) => m.get(id)));
    }
    try {
      return new Map(await Promise.all(inboxIds.map(async (id) => [id, await cache.get(id)] as const)));
    } catch (error) {
      return remember(error);
    }
  };
  const authenticate: AuthenticateMember = async ({ inboxId, installationKey }) =>
    (await histories([inboxId])).get(inboxId)?.everHad(installationKey) ?? false;
  return Object.assign(authenticate, { networkFailure: () => failure, histories });
}

export type { InboxId };
