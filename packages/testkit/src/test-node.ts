// A Parley node for tests of other packages: in process, on a free port,
// with the real validators, silent, without rate limits, in memory.
import { createLogger, createXmtpValidators, SqliteStore, startNode, type NodeOptions, type RunningNode } from "@parley/node";

export function startTestNode(options: Partial<NodeOptions> = {}): Promise<RunningNode> {
  return startNode({
    store: new SqliteStore({ path: ":memory:" }),
    validators: createXmtpValidators(),
    logger: createLogger("silent"),
    port: 0,
    rateLimits: false,
    ...options,
  });
}
