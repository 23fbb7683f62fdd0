// What a client's parts share: the node, the local store, and who we are.
import type { InstallationSigner } from "@parley/mls";
import type { InboxId, InstallationKey } from "@parley/proto";
import type { ApiClient } from "./api/api-client.js";
import type { CloneReporter } from "./identity/clone-reporter.js";
import type { ClientLogger } from "./logging.js";
import type { InboxLogCache } from "./identity/inbox-history.js";
import type { LocalStore } from "./store/local-store.js";

export interface ClientContext {
  readonly api: ApiClient;
  readonly store: LocalStore;
  readonly inboxId: InboxId;
  /** The raw 32-byte Ed25519 public key: the installation id. */
  readonly installationKey: InstallationKey;
  /** Signs our leaves and key packages. */
  readonly mlsSigner: InstallationSigner;
  /** Where refused input is reported (never secrets). */
  readonly logger: ClientLogger;
  /** The clock, in nanoseconds. */
  readonly nowNs: () => bigint;
  /** Identity logs verified so far, extended rather than fetched again. */
  readonly inboxLogs: InboxLogCache;
  /** Where evidence of another holder of our installation key goes (log and the app's listener). */
  readonly clones: CloneReporter;
}

export const systemNowNs = (): bigint => BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
