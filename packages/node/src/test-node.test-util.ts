// A node for tests: in process, on a free port, with the real validators,
// silent, without rate limits, on an in-memory store unless given one.
import { createLogger } from "./logger.js";
import { startNode, type NodeOptions, type RunningNode } from "./node.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import { createXmtpValidators } from "./validation/xmtp-validators.js";

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
