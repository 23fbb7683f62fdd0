// The one error class of @parley/node. Codes are stable; at the edge each
// maps to one gRPC status (see toConnectError). The message goes to the
// caller, the cause only to the log; so does the code of the library that
// refused (refusalCode), which the caller's status can't tell apart.
import { Code, ConnectError } from "@connectrpc/connect";
import { isIdentityError } from "@parley/identity";
import { isMlsError } from "@parley/mls";
import { isProtoError } from "@parley/proto";

export type NodeErrorCode =
  /** The request is malformed or fails validation. */
  | "node.invalid_argument"
  /** A per-IP limit was hit. */
  | "node.rate_limited"
  /** The RPC exists in the protocol but this node does not serve it. */
  | "node.unimplemented"
  /** An inbox's log already holds the maximum number of updates. */
  | "node.inbox_log_full"
  /** A key package older (by its lifetime start) than the installation's current one. */
  | "node.stale_key_package"
  /** The answer would exceed the node's answer byte limit: ask for fewer. */
  | "node.answer_too_large"
  /** A subscriber fell further behind than the node keeps for it; resume from the cursor. */
  | "node.slow_reader"
  /** The store changed under a conditional write; retry. */
  | "node.conflict"
  /** The node is shutting down. */
  | "node.unavailable"
  /** Too much work is waiting (signature checks): try again shortly. */
  | "node.busy"
  /** Anything else: a bug or a broken store. */
  | "node.internal";

export class NodeError extends Error {
  override readonly name = "NodeError";

  constructor(
    readonly code: NodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const grpcCodes: Record<NodeErrorCode, Code> = {
  "node.invalid_argument": Code.InvalidArgument,
  "node.rate_limited": Code.ResourceExhausted,
  "node.unimplemented": Code.Unimplemented,
  "node.inbox_log_full": Code.FailedPrecondition,
  "node.stale_key_package": Code.FailedPrecondition,
  "node.answer_too_large": Code.ResourceExhausted,
  "node.slow_reader": Code.Aborted,
  "node.conflict": Code.Aborted,
  "node.unavailable": Code.Unavailable,
  "node.busy": Code.Unavailable,
  "node.internal": Code.Internal,
};

/** The status a caller sees for an error; internal details stay out of it. */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof NodeError) {
    const message = error.code === "node.internal" ? "internal error" : error.message;
    return new ConnectError(message, grpcCodes[error.code]);
  }
  return new ConnectError("internal error", Code.Internal);
}

/** The stable code of an error of one of Parley's packages, or undefined for anything else. */
function parleyCode(error: unknown): string | undefined {
  if (error instanceof NodeError || isMlsError(error) || isIdentityError(error) || isProtoError(error)) return error.code;
  return undefined;
}

/** A cause chain longer than this is cut: no real one comes near it. */
const MAX_CAUSES = 8;

/**
 * The stable codes of an error and its causes, outermost first: for a
 * refused key package `["node.invalid_argument", "mls.bad_key_package"]`.
 * Errors of other libraries in the chain are skipped.
 */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES && current !== undefined; depth++) {
    const code = parleyCode(current);
    if (code !== undefined) codes.push(code);
    current = current instanceof Error ? current.cause : undefined;
  }
  return codes;
}

/**
 * The code that says why a request was refused: that of the library which
 * refused it (the first code below the node's own wrapper), else the node's
 * own, else undefined (a Connect-ES error or a bug).
 */
export function refusalCode(error: unknown): string | undefined {
  const codes = errorCodes(error);
  return codes.find((code) => !code.startsWith("node.")) ?? codes[0];
}

export function invalidArgument(message: string, cause?: unknown): NodeError {
  return new NodeError("node.invalid_argument", message, cause === undefined ? undefined : { cause });
}
