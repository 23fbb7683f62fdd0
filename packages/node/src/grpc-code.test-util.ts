// The gRPC status a call ended with, for tests: undefined when it succeeded.
import { ConnectError, type Code } from "@connectrpc/connect";

export async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return ConnectError.from(error).code;
  }
}
