// The one error class of @parley/node. Codes are stable; at the edge each
// maps to one gRPC status (see toConnectError). The message goes to the
// caller, the cause only to the log.
import { Code, ConnectError } from "@connectrpc/connect";

export type NodeErrorCode =
  /** The request is malformed or fails validation. */
  | "node.invalid_argument"
  /** A per-IP limit was hit. */
  | "node.rate_limited"
  /** The RPC exists in the protocol but this node does not serve it. */
  | "node.unimplemented"
  /** An inbox's log already holds the maximum number of updates. */
  | "node.inbox_log_full"
  /** The store changed under a conditional write; retry. */
  | "node.conflict"
  /** The node is shutting down. */
  | "node.unavailable"
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
  "node.conflict": Code.Aborted,
  "node.unavailable": Code.Unavailable,
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

export function invalidArgument(message: string, cause?: unknown): NodeError {
  return new NodeError("node.invalid_argument", message, cause === undefined ? undefined : { cause });
}
