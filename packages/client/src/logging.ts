// What the client tells its host about input it refused.
// The logger is the host's (pino, console, or anything with the same
// `warn(fields, message)` shape); by default nothing is printed.
//
// Only stable codes, ids and cursors are logged: never key material,
// never plaintext, never an engine's error message (it could quote bytes).
import { isMlsError } from "@parley/mls";
import { isProtoError } from "@parley/proto";
import { isClientError, type ClientErrorCode } from "./client-error.js";

export interface ClientLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  /** Routine skips (a commit that lost its epoch); optional. */
  debug?(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: ClientLogger = { warn: () => undefined };

export interface RefusalFields {
  /** Hex of the group id. */
  readonly groupId?: string;
  /** The node's id of the envelope (group message or welcome). */
  readonly cursor?: bigint;
  /** Which rule was broken, in words without ids or values. */
  readonly reason?: string;
  /** The lower-level error; only its code is logged. */
  readonly cause?: unknown;
}

function codeOf(error: unknown): string | undefined {
  if (isMlsError(error) || isProtoError(error) || isClientError(error)) return error.code;
  return undefined;
}

/** Logs one refused envelope or welcome under `code`. */
export function logRefused(
  logger: ClientLogger,
  code: ClientErrorCode,
  fields: RefusalFields,
  level: "warn" | "debug" = "warn",
): void {
  const out: Record<string, unknown> = { code };
  if (fields.groupId !== undefined) out["groupId"] = fields.groupId;
  if (fields.cursor !== undefined) out["cursor"] = fields.cursor.toString();
  if (fields.reason !== undefined) out["reason"] = fields.reason;
  const cause = codeOf(fields.cause);
  if (cause !== undefined) out["causeCode"] = cause;
  const message = `refused input: ${code}`;
  try {
    if (level === "debug") logger.debug?.(out, message);
    else logger.warn(out, message);
  } catch {
    // A failing logger must not stop a sync half way through a batch.
  }
}

/** The code a group message that @parley/mls refused is logged under. */
export function refusalCodeOfMlsError(code: string): ClientErrorCode {
  switch (code) {
    case "mls.ratchet_window":
      return "client.replayed";
    case "mls.unauthenticated_member":
    case "mls.expired_key_package":
      return "client.refused_commit";
    default:
      return "client.undecryptable";
  }
}
