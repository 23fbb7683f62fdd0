// `parley node start` options: each flag has an environment variable, and a
// flag wins over its variable. With none, the node listens on port 5556 on
// every interface and keeps its data in .parley/node.db.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { LogLevel } from "@parley/node";

export interface NodeConfig {
  readonly host: string | undefined;
  readonly port: number;
  readonly dbPath: string;
  readonly logLevel: LogLevel;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly rateLimits: boolean;
  /** Days group messages and welcomes are kept; undefined keeps them for ever. */
  readonly retentionDays: number | undefined;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export const nodeStartHelp = `Usage: parley node start [options]

  --host HOST          interface to listen on (PARLEY_HOST; default: all)
  --port PORT          port (PARLEY_PORT; default 5556)
  --db PATH            SQLite file (PARLEY_DB; default .parley/node.db)
  --log-level LEVEL    ${LOG_LEVELS.join(", ")} (PARLEY_LOG_LEVEL; default info)
  --tls-cert FILE      PEM certificate; with --tls-key, serve TLS (PARLEY_TLS_CERT)
  --tls-key FILE       PEM private key (PARLEY_TLS_KEY)
  --no-rate-limits     turn off the per-IP limits (PARLEY_RATE_LIMITS=off)
  --retention-days N   delete group messages and welcomes older than N days
                       (PARLEY_RETENTION_DAYS; default: keep everything)
`;

export function parseNodeConfig(args: readonly string[], env: NodeJS.ProcessEnv): NodeConfig {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: "string" },
      port: { type: "string" },
      db: { type: "string" },
      "log-level": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "no-rate-limits": { type: "boolean" },
      "retention-days": { type: "string" },
    },
    strict: true,
  });
  const portText = values.port ?? env.PARLEY_PORT ?? "5556";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`bad port: ${portText}`);
  const logLevel = (values["log-level"] ?? env.PARLEY_LOG_LEVEL ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`bad log level: ${logLevel}`);
  const certPath = values["tls-cert"] ?? env.PARLEY_TLS_CERT;
  const keyPath = values["tls-key"] ?? env.PARLEY_TLS_KEY;
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new UsageError("TLS needs both a certificate and a key");
  }
  const retentionText = values["retention-days"] ?? env.PARLEY_RETENTION_DAYS;
  const retentionDays = retentionText === undefined ? undefined : Number(retentionText);
  if (retentionDays !== undefined && !(Number.isFinite(retentionDays) && retentionDays > 0)) {
    throw new UsageError(`bad retention: ${retentionText} (a positive number of days)`);
  }
  return {
    host: values.host ?? env.PARLEY_HOST,
    port,
    dbPath: values.db ?? env.PARLEY_DB ?? ".parley/node.db",
    logLevel,
    tls: certPath && keyPath ? { cert: readFileSync(certPath), key: readFileSync(keyPath) } : undefined,
    rateLimits: !(values["no-rate-limits"] ?? env.PARLEY_RATE_LIMITS === "off"),
    retentionDays,
  };
}
