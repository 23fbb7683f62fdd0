// Intents (table `intents`, ../shared/spec/xmtp-client.md section 3.8): a
// change to a group written before it is published, so that a restart can
// finish it. The operation and the Welcome's recipients are typed records
// (intent-record.ts), decoded and checked on every read; the rest are
// columns. A row that does not decode is `client.bad_store`, never guessed at.
import type Database from "better-sqlite3-multiple-ciphers";
import { ClientError } from "../client-error.js";
import {
  decodeIntentOperation,
  decodeWelcomeRecipients,
  encodeIntentOperation,
  encodeWelcomeRecipients,
  type IntentOperation,
  type WelcomeRecipient,
} from "./intent-record.js";
import { blob, blobOrNull, bytesOf, bytesOrUndefined } from "./sql-values.js";

/**
 * A commit is `published` until the node acknowledges it, `acknowledged`
 * until its epoch is decided in the node's order, then `committed` (it came
 * first in its epoch; the staged state was merged) or `lost` (another commit
 * closed the epoch), `done` once its welcomes are sent, `superseded` when a
 * new attempt replaced a lost one. Only a decided commit drops its staged
 * state: until then it may still be the one the others apply. A message is
 * `published` until the node acknowledges it, then `acknowledged` until it
 * comes back (and is deleted).
 */
export type IntentState = "published" | "acknowledged" | "committed" | "lost" | "done" | "superseded";

const INTENT_STATES: ReadonlySet<string> = new Set<IntentState>(["published", "acknowledged", "committed", "lost", "done", "superseded"]);

const isIntentState = (state: string): state is IntentState => INTENT_STATES.has(state);

export interface IntentRow {
  readonly id: bigint;
  readonly groupId: Uint8Array;
  /** What to regenerate on a new epoch: the operation and its parameters. */
  readonly operation: IntentOperation;
  readonly state: IntentState;
  readonly baseEpoch: bigint;
  readonly payloadHash: Uint8Array;
  /** The commit, the group state it leads to, and the Welcome with its recipients; cleared once done. */
  readonly payload: Uint8Array | undefined;
  readonly stagedState: Uint8Array | undefined;
  readonly welcome: Uint8Array | undefined;
  readonly recipients: readonly WelcomeRecipient[] | undefined;
  /** The node's id of the commit, once seen. */
  readonly cursor: bigint | undefined;
}

export type NewIntent = Omit<IntentRow, "id" | "state" | "cursor">;

interface RawIntent {
  id: bigint;
  group_id: Buffer;
  operation: Buffer;
  state: string;
  base_epoch: bigint;
  payload_hash: Buffer;
  payload: Buffer | null;
  staged_state: Buffer | null;
  welcome: Buffer | null;
  recipients: Buffer | null;
  cursor: bigint | null;
}

/** @throws ClientError `client.bad_store` */
function intentRow(r: RawIntent): IntentRow {
  const what = `intent ${r.id}`;
  const state = r.state;
  if (!isIntentState(state)) throw new ClientError("client.bad_store", `${what}: unknown state ${state}`);
  return {
    id: r.id,
    groupId: bytesOf(r.group_id),
    operation: decodeIntentOperation(bytesOf(r.operation), what),
    state,
    baseEpoch: r.base_epoch,
    payloadHash: bytesOf(r.payload_hash),
    payload: bytesOrUndefined(r.payload),
    stagedState: bytesOrUndefined(r.staged_state),
    welcome: bytesOrUndefined(r.welcome),
    recipients: r.recipients === null ? undefined : decodeWelcomeRecipients(bytesOf(r.recipients), what),
    cursor: r.cursor ?? undefined,
  };
}

const COLUMNS = "id, group_id, operation, state, base_epoch, payload_hash, payload, staged_state, welcome, recipients, cursor";
// A commit acknowledged but undecided counts (its welcomes wait on it); a
// message acknowledged does not (only its echo is outstanding). Commits are
// the intents with a staged state until they are done.
const UNFINISHED = "(state IN ('published', 'committed', 'lost') OR (state = 'acknowledged' AND staged_state IS NOT NULL))";
/** Not yet seen in the node's order: the only states an envelope or a later epoch may decide. */
const UNDECIDED = "('published', 'acknowledged')";

export class IntentStore {
  readonly #insert: Database.Statement<[Buffer, Buffer, bigint, Buffer, Buffer | null, Buffer | null, Buffer | null, Buffer | null]>;
  readonly #get: Database.Statement<[bigint], RawIntent>;
  readonly #inState: Database.Statement<[Buffer, string], RawIntent>;
  readonly #unfinished: Database.Statement<[Buffer]>;
  readonly #byHash: Database.Statement<[Buffer, Buffer], RawIntent>;
  readonly #delete: Database.Statement<[bigint]>;
  readonly #setState: Database.Statement<[string, bigint | null, bigint]>;
  readonly #finish: Database.Statement<[string, bigint | null, bigint]>;
  readonly #decide: Database.Statement<[string, bigint | null, bigint]>;
  readonly #settle: Database.Statement<[string, bigint | null, bigint]>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      "INSERT INTO intents (group_id, operation, state, base_epoch, payload_hash, payload, staged_state, welcome, recipients) " +
        "VALUES (?, ?, 'published', ?, ?, ?, ?, ?, ?)",
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM intents WHERE id = ?`);
    this.#inState = db.prepare(`SELECT ${COLUMNS} FROM intents WHERE group_id = ? AND state = ? ORDER BY id`);
    this.#unfinished = db.prepare(`SELECT 1 FROM intents WHERE group_id = ? AND ${UNFINISHED} LIMIT 1`);
    this.#byHash = db.prepare(`SELECT ${COLUMNS} FROM intents WHERE group_id = ? AND payload_hash = ? ORDER BY id LIMIT 1`);
    this.#delete = db.prepare("DELETE FROM intents WHERE id = ?");
    this.#setState = db.prepare("UPDATE intents SET state = ?, cursor = coalesce(?, cursor) WHERE id = ?");
    this.#finish = db.prepare(
      "UPDATE intents SET state = ?, cursor = coalesce(?, cursor), payload = NULL, staged_state = NULL, welcome = NULL, recipients = NULL WHERE id = ?",
    );
    this.#decide = db.prepare(
      `UPDATE intents SET state = ?, cursor = coalesce(?, cursor), staged_state = NULL WHERE id = ? AND state IN ${UNDECIDED}`,
    );
    this.#settle = db.prepare("UPDATE intents SET state = ?, cursor = coalesce(?, cursor), staged_state = NULL WHERE id = ?");
  }

  /** Written `published`. @returns the intent's id */
  insert(row: NewIntent): bigint {
    const info = this.#insert.run(
      blob(row.groupId),
      Buffer.from(encodeIntentOperation(row.operation)),
      row.baseEpoch,
      blob(row.payloadHash),
      blobOrNull(row.payload),
      blobOrNull(row.stagedState),
      blobOrNull(row.welcome),
      row.recipients === undefined ? null : Buffer.from(encodeWelcomeRecipients(row.recipients)),
    );
    return BigInt(info.lastInsertRowid);
  }

  /** @throws ClientError `client.bad_store` for a row that does not decode. */
  get(id: bigint): IntentRow | undefined {
    const row = this.#get.get(id);
    return row === undefined ? undefined : intentRow(row);
  }

  /** The group's intents in one state, oldest first. @throws ClientError `client.bad_store` */
  inState(groupId: Uint8Array, state: IntentState): IntentRow[] {
    return this.#inState.all(blob(groupId), state).map(intentRow);
  }

  /** Whether the group has intents an earlier run left to finish (published, committed or lost, or a commit acknowledged). */
  hasUnfinished(groupId: Uint8Array): boolean {
    return this.#unfinished.get(blob(groupId)) !== undefined;
  }

  /**
   * The intent whose payload has this hash, in any state: a commit of ours
   * is recognised whatever became of its intent since.
   *
   * @throws ClientError `client.bad_store`
   */
  byHash(groupId: Uint8Array, hash: Uint8Array): IntentRow | undefined {
    const row = this.#byHash.get(blob(groupId), blob(hash));
    return row === undefined ? undefined : intentRow(row);
  }

  delete(id: bigint): void {
    this.#delete.run(id);
  }

  /**
   * Moves an intent on; `done` and `superseded` drop its payload, staged
   * state and welcome (secrets). `committed` and `lost` drop the staged
   * state at once: merged, it is the group's state, which erases each
   * secret as it is used (RFC 9420 9.2), and a copy here would keep them
   * for as long as the welcomes wait (a node that refuses them); lost, it
   * is an epoch that never was.
   */
  setState(id: bigint, state: IntentState, cursor?: bigint): void {
    const finished = state === "done" || state === "superseded";
    const settled = state === "committed" || state === "lost";
    (finished ? this.#finish : settled ? this.#settle : this.#setState).run(state, cursor ?? null, id);
  }

  /**
   * Decides an intent still waiting for its epoch (`published` or
   * `acknowledged`) as `committed` or `lost`; one decided before keeps its
   * state (a replay of its commit decides nothing again).
   */
  decide(id: bigint, state: "committed" | "lost", cursor?: bigint): void {
    this.#decide.run(state, cursor ?? null, id);
  }
}
