// What the client tells its host about input it refused.
// The logger is the host's (pino, console, or anything with the same
// `warn(fields, message)` shape); by default nothing is printed.
//
// Only stable codes, ids and cursors are logged: never key material,
// never plaintext, never an engine's error message (it could quote bytes).
import { isIdentityError } from "@parley/identity";
import { isMlsError } from "@parley/mls";
import { isProtoError } from "@parley/proto";
import { isClientError } from "./client-error.js";
import type { FailureDecision, RefusalCode } from "./incoming/incoming-failure.js";

export interface ClientLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  /** Routine skips (a commit that lost its epoch); optional. */
  debug?(fields: Record<string, unknown>, message: string): void;
  /** Errors of ours (an input whose processing failed in a way no rule explains); `warn` where absent. */
  error?(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: ClientLogger = { warn: () => undefined };

export interface RefusalFields {
  /** The conversation's id: hex of its local key (conversations/local-key.ts), the group id's for the first group held on it. */
  readonly groupId?: string;
  /** The node's id of the envelope (group message or welcome). */
  readonly cursor?: bigint;
  /** Hex of the installation id a refused key package was served for. */
  readonly installationId?: string;
  /** Which rule was broken, in words without ids or values. */
  readonly reason?: string;
  /** The lower-level error; only its code is logged. */
  readonly cause?: unknown;
}

/** A library's stable code; for anything else only its class name (a message could quote bytes). */
function codeOf(error: unknown): string | undefined {
  if (isMlsError(error) || isProtoError(error) || isClientError(error) || isIdentityError(error)) return error.code;
  if (error instanceof Error) return error.name;
  return undefined;
}

/** Logs one refused envelope, welcome or key package under `code`. */
export function logRefused(
  logger: ClientLogger,
  code: RefusalCode,
  fields: RefusalFields,
  level: "warn" | "debug" | "error" = "warn",
): void {
  const out: Record<string, unknown> = { code };
  if (fields.groupId !== undefined) out["groupId"] = fields.groupId;
  if (fields.cursor !== undefined) out["cursor"] = fields.cursor.toString();
  if (fields.installationId !== undefined) out["installationId"] = fields.installationId;
  if (fields.reason !== undefined) out["reason"] = fields.reason;
  const cause = codeOf(fields.cause);
  if (cause !== undefined) out["causeCode"] = cause;
  const message = `refused input: ${code}`;
  try {
    if (level === "debug") logger.debug?.(out, message);
    else if (level === "error" && logger.error !== undefined) logger.error(out, message);
    else logger.warn(out, message);
  } catch {
    // A failing logger must not stop a sync half way through a batch.
  }
}

/**
 * Codes of what the client noticed about the safety of this installation,
 * not about one input: a closed list, logged as errors (the app should act).
 */
export type SecurityCode =
  /** Another holder of our installation key signed something we did not make (identity/cloned-installation.ts). */
  "security.installation_cloned";

/** Logs a security finding under `code`; `fields` hold only codes, hex ids and cursors. */
export function logSecurity(logger: ClientLogger, code: SecurityCode, fields: Record<string, string>): void {
  try {
    (logger.error ?? logger.warn).call(logger, { code, ...fields }, `security: ${code}`);
  } catch {
    // As logRefused: a failing logger must not stop a sync.
  }
}

/** Logs a skipped input as its classification says: a refusal as a warning, a bug as an error. */
export function logSkipped(logger: ClientLogger, decision: Exclude<FailureDecision, { action: "retry" }>, fields: RefusalFields): void {
  logRefused(logger, decision.code, { ...fields, cause: decision.cause }, decision.action === "bug" ? "error" : "warn");
}

/**
 * An envelope on a group's topic that does not open under one of the states
 * we hold on that group id, left to the other (conversations/local-key.ts):
 * routine, so a debug line under `skipped.sibling_group`, not a refusal.
 */
export function logSiblingEnvelope(logger: ClientLogger, fields: { readonly groupId: string; readonly cursor: bigint }): void {
  try {
    logger.debug?.({ code: "skipped.sibling_group", groupId: fields.groupId, cursor: fields.cursor.toString() }, "skipped input: skipped.sibling_group");
  } catch {
    // As logRefused: a failing logger must not stop a sync.
  }
}
