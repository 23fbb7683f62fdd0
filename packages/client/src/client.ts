// Client (../shared/spec/xmtp-client.md sections 1.3, 6, 7): an
// installation of an inbox. Client.create registers a new installation
// through the wallet's signature (CreateInbox when the address has no inbox
// yet, with the official SDK's default nonce 1, then AddAssociation of the
// installation signed by wallet and installation key) after uploading a
// last-resort key package; an existing dbPath reopens its installation.
import {
  assertInboxId,
  createSignatureRequest,
  deriveInboxId,
  generateInstallationSecretKey,
  installationIdFromKey,
  installationMember,
  installationPublicKey,
  listInstallations,
  signerIdentifier,
  type AssociationState,
  type Signer,
} from "@parley/identity";
import type { Interceptor } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { asInboxId, asInstallationKey } from "@parley/proto";
import { uploadKeyPackage } from "./key-packages.js";
import { createApiClient, call, type ApiClient, type CallTimeouts } from "./api/api-client.js";
import { resolveApiUrl, type XmtpEnv } from "./api/api-urls.js";
import { systemNowNs, type ClientContext } from "./client-context.js";
import { ClientError } from "./client-error.js";
import { Conversations } from "./conversations/conversations.js";
import { fetchAssociationStates, inboxIdOf } from "./identity/identity-lookup.js";
import { CloneReporter, type ClonedInstallationListener } from "./identity/clone-reporter.js";
import { InboxLogCache } from "./identity/inbox-history.js";
import { revokeInstallations } from "./identity/revoke-installations.js";
import { LocalStore } from "./store/local-store.js";
import { silentLogger, type ClientLogger } from "./logging.js";

/** The official SDK's default inbox nonce (README: "Found while capturing"). */
export const DEFAULT_NONCE = 1n;

export interface ClientOptions {
  /** The node, e.g. `http://localhost:5556`; overrides `env`. */
  readonly apiUrl?: string;
  /** XMTP's network names, as the official SDK: "local" (localhost:5556), "dev" (the default), "production". */
  readonly env?: XmtpEnv;
  /** The local database; `null` or absent for an in-memory one. */
  readonly dbPath?: string | null;
  /**
   * Encrypts the local database (and its write-ahead log), as the official
   * SDK: 32 bytes, or `0x` and their 64 hex digits. The same key must be
   * given every time the database is opened; ignored for an in-memory one.
   */
  readonly dbEncryptionKey?: Uint8Array | `0x${string}`;
  /** The inbox nonce for a new inbox; defaults to 1, as the official SDK. */
  readonly nonce?: bigint;
  /** The clock in nanoseconds (message times, the membership check's intervals); the system clock by default. */
  readonly nowNs?: () => bigint;
  /** Receives a warning for every envelope or welcome refused (codes, ids, cursors; never secrets). Default: silent. */
  readonly logger?: ClientLogger;
  /** Connect-ES interceptors around every call to the node (headers, tracing, fault injection). */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Not in @xmtp/node-sdk: for tests and for a node embedded in the same
   * process. What carries the calls instead of HTTP/2 to `apiUrl`, e.g.
   * `createInProcessNode(...).httpClient` from @parley/node; `apiUrl` (or
   * `env`) then only names the node. The client speaks gRPC over it with the
   * same options and `interceptors` as over the network.
   */
  readonly httpClient?: UniversalClientFn;
  /**
   * Not in @xmtp/node-sdk: called when something signed with this
   * installation's key shows up that this client did not make (a copy of
   * its database or keys is in use elsewhere); the app should revoke the
   * installation. Also logged as `security.installation_cloned`.
   */
  readonly onInstallationCloned?: ClonedInstallationListener;
  /**
   * Not in @xmtp/node-sdk, which has no deadline to set (libxmtp gives
   * every request a fixed 120 s): the deadlines of calls to the node, by
   * kind; defaults `{ readMs: 30_000, writeMs: 60_000 }`. A call past its
   * deadline fails with `client.timeout`.
   */
  readonly callTimeouts?: CallTimeouts;
}

export interface InboxState {
  readonly inboxId: string;
  readonly identifiers: string[];
  readonly installations: { id: string }[];
  readonly recoveryIdentifier: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export class Client {
  readonly #ctx: ClientContext;
  /** The signer given to `create`, for revocations; none after `build`. */
  readonly #signer: Signer | undefined;
  readonly conversations: Conversations;

  private constructor(ctx: ClientContext, signer?: Signer) {
    this.#ctx = ctx;
    this.#signer = signer;
    this.conversations = new Conversations(ctx);
  }

  get inboxId(): string {
    return this.#ctx.inboxId;
  }

  /** Hex of the installation's Ed25519 public key. */
  get installationId(): string {
    return hex(this.#ctx.installationKey);
  }

  get installationIdBytes(): Uint8Array {
    return this.#ctx.installationKey.slice();
  }

  /**
   * Opens the installation stored at `options.dbPath`, or registers a new
   * one for the signer's address.
   *
   * @throws ClientError `client.bad_store` when the database holds another
   *   address, `client.network`, `client.identity`; `client.usage` for a
   *   `dbEncryptionKey` that is not 32 bytes; `client.store_wrong_key`,
   *   `client.store_encrypted`, `client.store_not_encrypted`,
   *   `client.store_no_cipher` when the key and the database do not fit;
   *   `client.no_native_sqlite` when SQLite's native addon is not built.
   */
  static async create(signer: Signer, options: ClientOptions = {}): Promise<Client> {
    const identifier = await signerIdentifier(signer);
    if (identifier.kind !== "ethereum") throw new ClientError("client.usage", "only Ethereum signers are supported so far");
    const address = identifier.address;
    const api = createApiClient({ ...options, apiUrl: apiUrlOf(options) });
    const store = new LocalStore(options.dbPath ?? ":memory:", options.dbEncryptionKey);
    const existing = store.installation();
    if (existing !== undefined) {
      if (existing.address !== address) {
        store.close();
        throw new ClientError("client.bad_store", "the database belongs to another address");
      }
      return new Client(contextOf(api, store, existing.inboxId, existing.installationSecret, options), signer);
    }
    const secret = generateInstallationSecretKey();
    const installationKey = installationPublicKey(secret);
    const known = await inboxIdOf(api, address);
    const nonce = options.nonce ?? DEFAULT_NONCE;
    const inboxId = known ?? deriveInboxId(identifier, nonce);
    const ctx = contextOf(api, store, inboxId, secret, options);
    const client = new Client(ctx, signer);
    await uploadKeyPackage(ctx);

    const member = installationMember(installationIdFromKey(installationKey));
    const request = createSignatureRequest({
      inboxId: assertInboxId(inboxId),
      clientTimestampNs: ctx.nowNs(),
      actions: [
        ...(known === undefined ? [{ type: "createInbox" as const, identifier, nonce }] : []),
        { type: "addAssociation" as const, newMember: member, existingMember: identifier },
      ],
    });
    request.signWithInstallationKey(secret);
    await request.signWith(signer);
    await call("PublishIdentityUpdate", () => api.identity.publishIdentityUpdate({ identityUpdate: request.toProto() }));
    store.saveInstallation({ inboxId, address, installationSecret: secret });
    return client;
  }

  /**
   * Reopens an installation from its database without a signer, as the
   * official `Client.build`.
   *
   * @throws ClientError `client.not_registered` when the database holds no
   *   installation for `address`; the store's errors as {@link Client.create}.
   */
  static build(address: string, options: ClientOptions = {}): Promise<Client> {
    let apiUrl: string;
    let store: LocalStore;
    try {
      apiUrl = apiUrlOf(options);
      store = new LocalStore(options.dbPath ?? ":memory:", options.dbEncryptionKey);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const existing = store.installation();
    if (existing?.address !== address.toLowerCase()) {
      store.close();
      return Promise.reject(new ClientError("client.not_registered", "no installation of this address in the database"));
    }
    return Promise.resolve(new Client(contextOf(createApiClient({ ...options, apiUrl }), store, existing.inboxId, existing.installationSecret, options)));
  }

  /** Whether each address has an inbox (keys lowercased). */
  async canMessage(addresses: readonly string[]): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    for (const address of addresses) out.set(address.toLowerCase(), (await inboxIdOf(this.#ctx.api, address)) !== undefined);
    return out;
  }

  /** This inbox's state, replayed and verified from the node's log. */
  async inboxState(): Promise<InboxState> {
    const [state] = await this.fetchInboxStates([this.#ctx.inboxId]);
    if (state === undefined) throw new ClientError("client.not_found", "our inbox has no log");
    return state;
  }

  async fetchInboxStates(inboxIds: readonly string[]): Promise<InboxState[]> {
    const states = await fetchAssociationStates(this.#ctx.api, inboxIds);
    return [...states.values()].flatMap((s) => (s === undefined ? [] : [inboxStateOf(s)]));
  }

  /**
   * Revokes installations of our inbox (raw installation ids), signed by
   * the signer given to `create`, which must be the inbox's recovery
   * identifier. Groups drop them at their members' next membership check.
   *
   * @throws ClientError `client.usage` without a signer (a client from
   *   `build`) and as {@link Client.revokeInstallations}.
   */
  revokeInstallations(installationIds: readonly Uint8Array[]): Promise<void> {
    const signer = this.#signer;
    if (signer === undefined) return Promise.reject(new ClientError("client.usage", "revoking needs the signer given to Client.create"));
    return revokeInstallations(this.#ctx.api, signer, this.#ctx.inboxId, installationIds, this.#ctx.nowNs);
  }

  /** Revokes every installation of our inbox but this one; as {@link revokeInstallations}. */
  async revokeAllOtherInstallations(): Promise<void> {
    const others = (await this.inboxState()).installations
      .filter((i) => i.id !== this.installationId)
      .map((i) => Uint8Array.from(Buffer.from(i.id, "hex")));
    await this.revokeInstallations(others);
  }

  /**
   * Revokes installations of `inboxId` without a client, as the official
   * static `Client.revokeInstallations`.
   *
   * @throws ClientError `client.usage` for a signer that is not the inbox's
   *   recovery identifier or an id that is not an installation of the
   *   inbox; `client.not_found`, `client.identity`, `client.network`.
   */
  static revokeInstallations(
    signer: Signer,
    inboxId: string,
    installationIds: readonly Uint8Array[],
    options: Pick<ClientOptions, "apiUrl" | "env" | "nowNs" | "interceptors" | "httpClient" | "callTimeouts">,
  ): Promise<void> {
    return revokeInstallations(createApiClient({ ...options, apiUrl: apiUrlOf(options) }), signer, inboxId, installationIds, options.nowNs ?? systemNowNs);
  }

  /** Closes the local database. */
  close(): void {
    this.#ctx.store.close();
  }
}

/** @throws ClientError `client.usage` for an env with no URL. */
function apiUrlOf(options: Pick<ClientOptions, "apiUrl" | "env">): string {
  const url = resolveApiUrl(options);
  if (url === undefined) throw new ClientError("client.usage", "unknown env; give one of local, dev, production, or an apiUrl");
  return url;
}

function inboxStateOf(state: AssociationState): InboxState {
  const identifiers = [...state.members.values()].flatMap((m) => (m.identifier.kind === "ethereum" ? [m.identifier.address] : []));
  const recovery = state.recoveryIdentifier;
  return {
    inboxId: state.inboxId,
    identifiers,
    installations: listInstallations(state).map((m) => ({ id: m.identifier.key })),
    recoveryIdentifier: recovery.kind === "ethereum" ? recovery.address : recovery.key,
  };
}

function contextOf(api: ApiClient, store: LocalStore, inboxId: string, secret: Uint8Array, options: ClientOptions): ClientContext {
  return {
    api,
    store,
    // Checked once here (the stored id, or the one just derived): every
    // part of the client holds the branded types of @parley/proto.
    inboxId: asInboxId(inboxId),
    installationKey: asInstallationKey(installationPublicKey(secret)),
    mlsSigner: { inboxId: asInboxId(inboxId), privateKey: secret },
    nowNs: options.nowNs ?? systemNowNs,
    logger: options.logger ?? silentLogger,
    inboxLogs: new InboxLogCache(store.identityLog),
    clones: new CloneReporter(options.logger ?? silentLogger, options.onInstallationCloned),
  };
}
