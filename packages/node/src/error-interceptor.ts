// The edge between handlers and the wire: every error leaves as a
// ConnectError with the status its code maps to (toConnectError), internal
// details are logged and never sent, and each call is logged at debug.
//
// A refusal is logged at debug, as every call is: anyone may send the node
// garbage, so an info line per refusal would let them fill its log. The
// entry holds the RPC, the gRPC status, the stable code of the library that
// refused (`mls.bad_key_package`, `identity.bad_signature`, ...), every code
// of its cause chain, and the message the caller was sent. Never the request:
// no payload bytes, keys or signatures (logger.ts).
import type { ConnectError } from "@connectrpc/connect";
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "./logger.js";
import { errorCodes, refusalCode, toConnectError, type NodeError } from "./node-error.js";

function logFailure(log: Logger, method: string, error: unknown): ConnectError {
  const connectError = toConnectError(error);
  const status = Code[connectError.code];
  const codes = errorCodes(error);
  if (connectError.code === Code.Internal) {
    log.error({ method, status, code: refusalCode(error), codes, err: error }, "request failed");
  } else {
    log.debug({ method, status, code: refusalCode(error) ?? status, codes, reason: connectError.rawMessage }, "request refused");
  }
  return connectError;
}

export function errorInterceptor(log: Logger): Interceptor {
  return (next) => async (request) => {
    const method = `${request.service.typeName}/${request.method.name}`;
    const started = performance.now();
    try {
      const response = await next(request);
      if (!response.stream) {
        log.debug({ method, ms: Math.round(performance.now() - started) }, "ok");
        return response;
      }
      const messages = response.message;
      return {
        ...response,
        message: (async function* () {
          try {
            yield* messages;
          } catch (error) {
            throw logFailure(log, method, error);
          }
        })(),
      };
    } catch (error) {
      throw logFailure(log, method, error);
    }
  };
}

/**
 * Logs a request that Connect-ES refused before any handler or interceptor
 * ran because its body is not protobuf (connect-adapter.ts answers it
 * INVALID_ARGUMENT): the wire protocol's `proto.malformed`.
 */
export function logMalformedRequest(log: Logger, requestPath: string): void {
  const method = requestPath.replace(/^\//, "");
  log.debug({ method, status: Code[Code.InvalidArgument], code: "proto.malformed" }, "request refused");
}

/**
 * Logs a request the node's intake refused before it was decoded (a rate
 * limit at the gate or while its body arrived), which no interceptor saw.
 */
export function logIntakeRefusal(log: Logger, method: string, error: NodeError): void {
  log.debug({ method, status: Code[toConnectError(error).code], code: error.code, codes: [error.code], reason: error.message }, "request refused");
}
