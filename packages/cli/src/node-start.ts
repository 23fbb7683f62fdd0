// `parley node start`: a node on the embedded SQLite store, until SIGTERM or
// SIGINT, which stop it in order (no new calls, streams ended, calls in
// progress finished, store closed).
import { createLogger, createXmtpValidators, SqliteStore, startNode, type RunningNode } from "@parley/node";
import type { NodeConfig } from "./node-config.js";
import { prepareOwnerOnlyFile } from "./owner-only.js";

const DAY_MS = 86_400_000;

/** Listens on every interface: IPv6 and IPv4 where the machine has both. */
async function startOnAllInterfaces(start: (host: string) => Promise<RunningNode>): Promise<RunningNode> {
  try {
    return await start("::");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAFNOSUPPORT") throw error;
    return start("0.0.0.0");
  }
}

export async function runNode(config: NodeConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  prepareOwnerOnlyFile(config.dbPath);
  const store = new SqliteStore({ path: config.dbPath });
  const start = (host: string) =>
    startNode({
      store,
      validators: createXmtpValidators(),
      logger,
      host,
      port: config.port,
      ...(config.tls ? { tls: config.tls } : {}),
      ...(config.rateLimits ? {} : { rateLimits: false as const }),
      ...(config.retentionDays === undefined ? {} : { retention: { groupMessagesMs: config.retentionDays * DAY_MS, welcomesMs: config.retentionDays * DAY_MS } }),
    });
  const node = config.host === undefined ? await startOnAllInterfaces(start) : await start(config.host);
  logger.info({ db: config.dbPath }, "store ready");

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "signal received");
      node.stop().then(resolve, (error: unknown) => {
        logger.error({ err: error }, "stop failed");
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
