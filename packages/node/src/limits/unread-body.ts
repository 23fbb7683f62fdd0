// A request refused before its body was read, on HTTP/1.1: too large for its
// method, out of tokens at the gate, past its memory share. HTTP/1.1 cannot
// stop one request without closing its connection, and connect-node keeps
// the connection by reading the rest of the body and throwing it away (up
// to 256 KiB, before it even answers): bandwidth and time spent on bytes
// the node already refused, and an answer held back until they arrive. So
// a refusal with its body unread is answered with `Connection: close`, and
// then the connection ends: the node half-closes it after the answer and
// destroys it once the client has sent `LINGER_BYTES` more or
// `LINGER_MS` have passed. The short linger is for the client's sake: a
// socket destroyed with bytes unread sends RST, and a client that is still
// writing may then lose the answer before it reads it (the reason for
// "lingering close" in HTTP servers, RFC 9112 section 9.6).
//
// HTTP/2 needs none of it: connect-node resets such a stream with NO_ERROR
// after its answer (RFC 9113 section 8.1), and the connection goes on.
import type http from "node:http";
import type http2 from "node:http2";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What the node still reads of a refused body after its answer, at most (one socket read more). */
export const LINGER_BYTES = 64 * 1024;
/** How long a refused client has to read its answer before its connection is destroyed. */
export const LINGER_MS = 500;

/**
 * The answer, unchanged, but for this: once its first chunk is ready (when
 * connect-node decides whether to keep the connection), an HTTP/1.1
 * request whose body has not arrived whole gets `Connection: close`, and
 * its socket lingers briefly after the answer instead of being read on.
 */
export function closeIfBodyUnread(answer: UniversalServerResponse, request: NodeRequest, response: NodeResponse): UniversalServerResponse {
  if ("stream" in response) return answer;
  const decide = () => {
    if (request.complete || response.headersSent) return;
    response.shouldKeepAlive = false;
    const { socket } = response;
    // Node ends a connection whose answer said close with destroySoon(), once the answer is written.
    if (socket !== null) socket.destroySoon = () => linger(socket);
  };
  const { body } = answer;
  if (body === undefined) {
    decide();
    return answer;
  }
  return { ...answer, body: decidedAtFirstChunk(body, decide) };
}

/** FIN after the answer; the rest the client sends is read up to LINGER_BYTES, for LINGER_MS at most. */
function linger(socket: NonNullable<http.ServerResponse["socket"]>): void {
  socket.end();
  let read = 0;
  socket.on("data", (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER_BYTES) socket.destroy();
  });
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/** The body, with `decide` run before its first chunk (or its end) is handed on. */
async function* decidedAtFirstChunk(body: AsyncIterable<Uint8Array>, decide: () => void): AsyncIterable<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  const first = await chunks.next();
  decide();
  if (first.done === true) return;
  yield first.value;
  // The rest as it was, write errors (throw) and abandonment (return) passed on.
  yield* { [Symbol.asyncIterator]: () => chunks };
}
