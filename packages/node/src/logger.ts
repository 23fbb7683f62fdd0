// Structured logs (pino). What goes in: method, status, duration, error
// codes and causes. What never does: payloads, keys, message bytes.
import pino, { type DestinationStream, type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** JSON lines to `destination`, standard output by default. */
export function createLogger(level: LogLevel = "info", destination?: DestinationStream): Logger {
  const options = { level, base: { service: "parley-node" } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export type { DestinationStream, Logger };
