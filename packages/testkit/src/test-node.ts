// A Parley node for tests of other packages: in process, on a free port,
// with the real validators, silent, without rate limits, in memory unless
// `storePath` names a file (a fixture that must outlive the process).
import { createLogger, createXmtpValidators, SqliteStore, startNode, type NodeOptions, type RunningNode } from "@parley/node";

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
