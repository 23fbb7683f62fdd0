// Structured logs (pino). What goes in: method, status, duration, error
// codes and causes. What never does: payloads, keys, message bytes.
import pino, { type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export function createLogger(level: LogLevel = "info"): Logger {
  return pino({ level, base: { service: "parley-node" } });
}

export type { Logger };
