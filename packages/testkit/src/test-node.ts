// Parley nodes for tests, with the real validators, silent, without rate
// limits, in memory unless `storePath` names a file (a fixture that must
// outlive the process). Two kinds:
// - createInProcessTestNode: no port, calls through memory, for every test
//   whose subject is not the network;
// - startTestNode: on a free port over HTTP/2, for tests of the wire itself
//   (transport, fuzzing, the command line) and for the official SDK, which
//   needs a real address.
import {
  createInProcessNode,
  createLogger,
  createXmtpValidators,
  SqliteStore,
  startNode,
  type InProcessNode,
  type InProcessNodeOptions,
  type NodeOptions,
  type RunningNode,
  type Store,
} from "@parley/node";

export interface InProcessTestNode extends InProcessNode {
  /** The node's store, for tests that look at what it holds. */
  readonly store: Store;
  /** Spread into @parley/client's ClientOptions (or its createApiClient) to reach this node. */
  readonly clientOptions: { readonly apiUrl: string; readonly httpClient: InProcessNode["httpClient"] };
}

export function createInProcessTestNode(options: Partial<InProcessNodeOptions> & { readonly storePath?: string } = {}): InProcessTestNode {
  const { storePath, ...rest } = options;
  const store = rest.store ?? new SqliteStore({ path: storePath ?? ":memory:" });
  const node = createInProcessNode({
    validators: createXmtpValidators(),
    logger: createLogger("silent"),
    rateLimits: false,
    ...rest,
    store,
  });
  return { ...node, store, clientOptions: { apiUrl: node.url, httpClient: node.httpClient } };
}

export function startTestNode(options: Partial<NodeOptions> & { readonly storePath?: string } = {}): Promise<RunningNode> {
  const { storePath, ...rest } = options;
  return startNode({
    store: new SqliteStore({ path: storePath ?? ":memory:" }),
    validators: createXmtpValidators(),
    logger: createLogger("silent"),
    port: 0,
    rateLimits: false,
    ...rest,
  });
}
