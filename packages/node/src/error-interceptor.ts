// The edge between handlers and the wire: every error leaves as a
// ConnectError with the status its code maps to (toConnectError), internal
// details are logged and never sent, and each call is logged at debug.
import type { ConnectError} from "@connectrpc/connect";
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "./logger.js";
import { NodeError, toConnectError } from "./node-error.js";

function logFailure(log: Logger, method: string, error: unknown): ConnectError {
  const connectError = toConnectError(error);
  const code = error instanceof NodeError ? error.code : Code[connectError.code];
  if (connectError.code === Code.Internal) {
    log.error({ method, code, err: error }, "request failed");
  } else {
    log.debug({ method, code, reason: connectError.rawMessage }, "request refused");
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
