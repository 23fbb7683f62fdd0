// An inbox's association state at every point of its log
// (../shared/spec/xmtp-client.md sections 3.3 to 3.5, 6): groups pin each
// member inbox to a sequence id in 0xFF01, and the installations a commit
// may add or must remove, the committer, and the leaves of a welcome are
// all judged against the state AT those sequence ids, not the latest one.
// The log is fetched whole and replayed here, every signature verified,
// keeping the state after each entry. An entry past the recovery reserve
// (a node stored it against the rule, @parley/identity recovery-reserve.ts)
// keeps its place and changes nothing, as every client reads it.
import {
  installationIdFromKey,
  installationMember,
  isMember,
  listInstallations,
  readLogEntry,
  type AssociationState,
  type IdentityUpdateLogEntry,
} from "@parley/identity";
import { Code, ConnectError } from "@connectrpc/connect";
import { associations, encode } from "@parley/proto";
import { nodeFailure, type ApiClient } from "../api/api-client.js";
import { ClientError } from "../client-error.js";
import type { StoredIdentityUpdate } from "../store/identity-log-store.js";

export interface InboxHistory {
  readonly inboxId: string;
  /** The state after the last entry of the log. */
  readonly latest: AssociationState;
  /** The log's last entry: its sequence id and the node's time of it. */
  readonly last: LogPoint;
  /**
   * The state after the last entry with a sequence id at or below
   * `sequenceId`; undefined before the first entry (so 0 gives undefined).
   * Only for pins accepted before a pin had to name an entry: a new pin is
   * read with {@link entry}.
   */
  at(sequenceId: bigint): AssociationState | undefined;
  /** The entry with exactly this sequence id, if the log holds one. */
  entry(sequenceId: bigint): (LogPoint & { readonly state: AssociationState }) | undefined;
  /** Whether the installation was in the inbox at any point of the log. */
  everHad(installationKey: Uint8Array): boolean;
}

/** Hex installation keys of a state; empty for no state. */
export function installationsOf(state: AssociationState | undefined): Set<string> {
  if (state === undefined) return new Set();
  return new Set(listInstallations(state).map((m) => m.identifier.key));
}

/** A point of an inbox's log: the (global, rising, not contiguous) sequence id and the node's time of writing it. */
export interface LogPoint {
  readonly sequenceId: bigint;
  readonly serverTimestampNs: bigint;
}

type VerifiedEntry = LogPoint & { readonly state: AssociationState };

/** Where verified logs outlive a run: the local store's identity log (store/identity-log-store.ts). */
export interface InboxLogStore {
  identityUpdates(inboxId: string): readonly StoredIdentityUpdate[];
  appendIdentityUpdates(inboxId: string, entries: readonly StoredIdentityUpdate[]): void;
  deleteIdentityUpdates(inboxId: string): void;
}

/**
 * Verified logs: a later fetch asks only for the entries after the last one
 * seen and replays them from the state it ends on, so each signature is
 * verified once a run, not at every sync. With a store, the logs outlive
 * the run (as libxmtp keeps them in its database): after a restart the node
 * is asked only for what follows, so it cannot serve an older state of an
 * inbox than one we verified (a revoked installation back in it). Stored
 * entries are verified again when a run first reads them.
 */
export class InboxLogCache {
  readonly #logs = new Map<string, readonly VerifiedEntry[]>();
  readonly #store: InboxLogStore | undefined;

  constructor(store?: InboxLogStore) {
    this.#store = store;
  }

  entries(inboxId: string): readonly VerifiedEntry[] {
    return this.#logs.get(inboxId) ?? [];
  }

  /** Reads the stored logs of the inboxes this run has not read yet. */
  async restore(inboxIds: readonly string[]): Promise<void> {
    const store = this.#store;
    if (store === undefined) return;
    for (const inboxId of inboxIds) {
      if (this.#logs.has(inboxId)) continue;
      const stored = store.identityUpdates(inboxId);
      let entries: readonly VerifiedEntry[] = [];
      try {
        entries = await extendHistory(inboxId, [], stored.map((e) => ({ sequenceId: e.sequenceId, serverTimestampNs: e.serverTimestampNs, update: e.payload })));
      } catch {
        // A stored log that no longer verifies (a damaged or edited file): fetched again whole.
        store.deleteIdentityUpdates(inboxId);
      }
      this.#logs.set(inboxId, entries);
    }
  }

  /** Keeps an inbox's verified log, `added` its entries new since the last keep (stored). */
  keep(inboxId: string, entries: readonly VerifiedEntry[], added: readonly LogEntry[] = []): void {
    this.#logs.set(inboxId, entries);
    if (added.length === 0) return;
    this.#store?.appendIdentityUpdates(
      inboxId,
      added.map((e) => ({
        sequenceId: e.sequenceId,
        serverTimestampNs: e.serverTimestampNs,
        payload: e.update instanceof Uint8Array ? e.update : encode(associations.IdentityUpdateSchema, e.update),
      })),
    );
  }
}

/**
 * The verified histories of the given inboxes (undefined for an inbox with
 * no log), fetched in pages the node accepts (identityUpdatesInPages); with
 * a cache, only what the cache has not seen is fetched and verified.
 *
 * @throws ClientError `client.network`; `client.identity` when a log does
 *   not verify; `client.bad_response` for another inbox's log.
 */
export async function fetchInboxHistories(
  api: ApiClient,
  inboxIds: readonly string[],
  cache: InboxLogCache = new InboxLogCache(),
): Promise<Map<string, InboxHistory | undefined>> {
  const out = new Map<string, InboxHistory | undefined>();
  const unique = [...new Set(inboxIds)];
  if (unique.length === 0) return out;
  await cache.restore(unique);
  const lastSeen = (inboxId: string) => cache.entries(inboxId).at(-1)?.sequenceId ?? 0n;
  const responses = await identityUpdatesInPages(api, unique.map((inboxId) => ({ inboxId, sequenceId: lastSeen(inboxId) })));
  for (const inboxId of unique) {
    const after = lastSeen(inboxId);
    // Entries at or before what we verified are not new (a node repeating them is ignored).
    const log = (responses.find((r) => r.inboxId === inboxId)?.updates ?? []).flatMap((e) =>
      e.update === undefined || e.sequenceId <= after ? [] : [{ sequenceId: e.sequenceId, serverTimestampNs: e.serverTimestampNs, update: e.update }],
    );
    const entries = await extendHistory(inboxId, cache.entries(inboxId), log);
    cache.keep(inboxId, entries, log);
    out.set(inboxId, historyOf(inboxId, entries));
  }
  return out;
}

/** Inboxes asked for in one GetIdentityUpdates: a group holds at most 250, so at most a few requests. */
const IDENTITY_PAGE = 64;

type IdentityQuery = { readonly inboxId: string; readonly sequenceId: bigint };
type IdentityResponse = Awaited<ReturnType<ApiClient["identity"]["getIdentityUpdates"]>>["responses"][number];

/**
 * The logs of `queries`, asked for in pages the node accepts: at most
 * IDENTITY_PAGE inboxes a request, and a page the node finds too large to
 * answer (RESOURCE_EXHAUSTED: its answer byte limit) split in halves, down
 * to one inbox, whose log always fits (256 updates of at most 64 KiB).
 *
 * @throws ClientError `client.network`
 */
async function identityUpdatesInPages(api: ApiClient, queries: readonly IdentityQuery[]): Promise<IdentityResponse[]> {
  const out: IdentityResponse[] = [];
  const ask = async (page: readonly IdentityQuery[]): Promise<void> => {
    try {
      out.push(...(await api.identity.getIdentityUpdates({ requests: [...page] })).responses);
    } catch (error) {
      if (page.length > 1 && ConnectError.from(error).code === Code.ResourceExhausted) {
        const half = Math.ceil(page.length / 2);
        await ask(page.slice(0, half));
        await ask(page.slice(half));
        return;
      }
      throw nodeFailure("GetIdentityUpdates", error);
    }
  };
  for (let i = 0; i < queries.length; i += IDENTITY_PAGE) await ask(queries.slice(i, i + IDENTITY_PAGE));
  return out;
}

type LogEntry = LogPoint & { readonly update: IdentityUpdateLogEntry["update"] };

async function extendHistory(inboxId: string, known: readonly VerifiedEntry[], log: readonly LogEntry[]): Promise<readonly VerifiedEntry[]> {
  if (log.length === 0) return known;
  const states = [...known];
  let state = known.at(-1)?.state;
  for (const entry of log) {
    const applied = await readLogEntry(state, entry);
    if (!applied.ok) throw new ClientError("client.identity", `the log of inbox ${inboxId} does not verify`, { cause: applied.error });
    state = applied.value.state;
    states.push({ sequenceId: entry.sequenceId, serverTimestampNs: entry.serverTimestampNs, state });
  }
  if (state?.inboxId !== inboxId) throw new ClientError("client.bad_response", "the node returned another inbox's log");
  return states;
}

function historyOf(inboxId: string, states: readonly VerifiedEntry[]): InboxHistory | undefined {
  const last = states.at(-1);
  if (last === undefined) return undefined;
  const ever = new Set(states.flatMap((s) => [...installationsOf(s.state)]));
  return {
    inboxId,
    latest: last.state,
    last: { sequenceId: last.sequenceId, serverTimestampNs: last.serverTimestampNs },
    at: (sequenceId) => states.findLast((s) => s.sequenceId <= sequenceId)?.state,
    entry: (sequenceId) => states.find((s) => s.sequenceId === sequenceId),
    everHad: (key) => ever.has(Buffer.from(key).toString("hex")),
  };
}

/** Whether `installationKey` belongs to `state`. */
export function hasInstallation(state: AssociationState | undefined, installationKey: Uint8Array): boolean {
  return state !== undefined && isMember(state, installationMember(installationIdFromKey(installationKey)));
}
