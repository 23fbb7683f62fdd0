// The node's request handlers: Connect-ES's router with one change on the
// way out, served on Node's HTTP servers (as @connectrpc/connect-node's
// connectNodeAdapter does) or in memory (in-process.ts). Connect-ES answers a
// request body that doesn't parse as protobuf with INTERNAL ("parse
// binary: ..."), before any interceptor runs; malformed input is the
// caller's fault, so that answer is rewritten to INVALID_ARGUMENT in each
// protocol's own form: the gRPC status header or trailer, the gRPC-web
// trailer frame, the Connect JSON error (HTTP 400) and the Connect
// end-of-stream frame. Each rewrite is reported to `onMalformedRequest`,
// since no interceptor saw the request to log it.
//
// Before anything is decoded, a request meets the node's intake
// (RequestIntake): its method's size limit, a gate that runs before its body
// is read, and a meter on the body as it arrives. Requests are decoded
// without their unknown fields (`readUnknownFields: false`): whatever a
// client adds beyond the schema is dropped before anything is stored, so it
// is never served back to others; the bytes fields the node relays (MLS
// messages, welcomes, key packages) are kept exactly as sent. A request
// refused before its body was read ends its HTTP/1.1 connection rather than
// have the rest read and thrown away (limits/unread-body.ts).
import type http from "node:http";
import type http2 from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextValues,
  createServiceImplSpec,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import {
  createAsyncIterable,
  readAllBytes,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { callMemoryKey, type MemoryInFlight, type CallMemory } from "./limits/memory-in-flight.js";
import { closeIfBodyUnread } from "./limits/unread-body.js";
import { toConnectError } from "./node-error.js";

const PARSE_FAILURE = "parse binary:";
const GRPC_WEB_TRAILER_FLAG = 0x80;
const CONNECT_END_STREAM_FLAG = 0x02;

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What a request meets before anything decodes it. */
export interface RequestIntake {
  /** The largest request message of a method, in bytes, as sent and as inflated. */
  readonly maxRequestBytes: (method: DescMethod) => number;
  /** Runs before any byte of a call's body is read; a thrown ConnectError is the call's status. */
  readonly gate?: (context: HandlerContext) => void;
  /** A call's body as it arrives, before anything decodes it; may end it with a ConnectError. */
  readonly meterBody?: (method: DescMethod, values: ContextValues, body: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;
  /**
   * The node's memory in flight: a compressed request reserves its
   * method's size before its body is read (it may inflate to that), a
   * large answer its bytes before they are read (`callMemoryKey` in the
   * call's context); both are given back once the answer has been handed
   * to the transport, or the call ended otherwise.
   */
  readonly memory?: MemoryInFlight;
}

export interface HandlerOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
  /** Largest request message of a method the intake does not size, in bytes. */
  readonly readMaxBytes: number;
  readonly intake?: RequestIntake;
  /** Called with the request path of each request refused because its body is not protobuf. */
  readonly onMalformedRequest?: (requestPath: string) => void;
}

export interface AdapterOptions extends HandlerOptions {
  readonly contextValues: (request: NodeRequest) => ContextValues;
}

const isParseFailure = (message: string | null | undefined) =>
  decodeURIComponent(message ?? "").startsWith(PARSE_FAILURE);

/** Rewrites a gRPC status header; true when it did. */
function fixHeaders(headers: Headers | undefined): boolean {
  if (headers?.get("grpc-status") === String(Code.Internal) && isParseFailure(headers.get("grpc-message"))) {
    headers.set("grpc-status", String(Code.InvalidArgument));
    return true;
  }
  return false;
}

/** A Connect JSON error object, rewritten when it is a parse failure. */
function fixJsonError(error: { code?: string; message?: string } | undefined): boolean {
  if (error?.code !== "internal" || !isParseFailure(error.message)) return false;
  error.code = "invalid_argument";
  return true;
}

function envelope(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Rewrites the final frame of a gRPC-web or Connect stream; other chunks pass. */
function fixFrame(chunk: Uint8Array, onFixed: () => void): Uint8Array {
  if (chunk.length < 5 || new DataView(chunk.buffer, chunk.byteOffset).getUint32(1) !== chunk.length - 5) return chunk;
  const flags = chunk[0] ?? 0;
  const text = new TextDecoder().decode(chunk.subarray(5));
  if (flags === GRPC_WEB_TRAILER_FLAG) {
    const status = /^grpc-status:\s*(\d+)\s*$/im.exec(text)?.[1];
    const message = /^grpc-message:\s*(.*?)\s*$/im.exec(text)?.[1];
    if (status !== String(Code.Internal) || !isParseFailure(message)) return chunk;
    const fixed = text.replace(/^grpc-status:\s*\d+/im, `grpc-status: ${Code.InvalidArgument}`);
    onFixed();
    return envelope(flags, new TextEncoder().encode(fixed));
  }
  if (flags === CONNECT_END_STREAM_FLAG) {
    const endStream = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (!fixJsonError(endStream.error)) return chunk;
    onFixed();
    return envelope(flags, new TextEncoder().encode(JSON.stringify(endStream)));
  }
  return chunk;
}

async function* mapChunks(body: AsyncIterable<Uint8Array>, onFixed: () => void): AsyncIterable<Uint8Array> {
  for await (const chunk of body) yield fixFrame(chunk, onFixed);
}

async function reportParseFailuresAsInvalid(
  response: UniversalServerResponse,
  onFixed: () => void,
): Promise<UniversalServerResponse> {
  const fixedHeader = fixHeaders(response.header);
  const fixedTrailer = fixHeaders(response.trailer);
  if (fixedHeader || fixedTrailer) onFixed();
  const contentType = response.header?.get("content-type") ?? "";
  if (!response.body) return response;
  if (contentType.startsWith("application/grpc-web") || contentType.startsWith("application/connect+")) {
    return { ...response, body: mapChunks(response.body, onFixed) };
  }
  if (response.status >= 400 && contentType.startsWith("application/json")) {
    // A Connect unary error: small, so it is read whole.
    const bytes = await readAllBytes(response.body, 1024 * 1024);
    const error = JSON.parse(new TextDecoder().decode(bytes)) as { code?: string; message?: string };
    const fixed = fixJsonError(error);
    if (fixed) onFixed();
    const body = fixed ? new TextEncoder().encode(JSON.stringify(error)) : bytes;
    if (response.header?.has("content-length")) response.header.set("content-length", String(body.length));
    return { ...response, status: fixed ? 400 : response.status, body: createAsyncIterable([body]) };
  }
  return response;
}

/**
 * The node's handlers, one per RPC, each answering a request body that
 * doesn't parse with INVALID_ARGUMENT. Every way in (a port, memory) serves
 * these, so the node's edge is the same whatever carries the bytes.
 */
export function createNodeHandlers(options: HandlerOptions): UniversalHandler[] {
  const { intake } = options;
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.readMaxBytes,
    binaryOptions: { readUnknownFields: false },
    ...(intake?.gate ? { requestGate: intake.gate } : {}),
    // As connectNodeAdapter: accept compressed requests.
    acceptCompression: [compressionGzip, compressionBrotli],
    // Never compress answers: what the node sends is MLS ciphertext, which
    // doesn't shrink, and a gRPC stream's headers go out before Connect would
    // announce a grpc-encoding (early-stream-headers.ts).
    compressMinBytes: Number.MAX_SAFE_INTEGER,
  });
  options.routes(intake ? sizedRouter(router, intake.maxRequestBytes) : router);
  const meterBody = intake?.meterBody;
  return router.handlers.map((handler) =>
    Object.assign((request: UniversalServerRequest) => {
      // Once per request, whichever form the rewrite took.
      let reported = false;
      const onFixed = () => {
        if (reported) return;
        reported = true;
        options.onMalformedRequest?.(handler.requestPath);
      };
      const { body } = request;
      const values = request.contextValues ?? createContextValues();
      const memory = intake?.memory?.forCall(values);
      if (memory) {
        values.set(callMemoryKey, memory);
        // The stream closed (answered, reset, or its connection gone): nothing of the answer is still to send.
        request.signal.addEventListener("abort", () => memory.release(), { once: true });
      }
      let bodyIn = body;
      if (intake && memory && isByteStream(body) && isCompressed(request.header)) bodyIn = reservedFirst(body, memory, intake.maxRequestBytes(handler.method));
      const metered =
        meterBody && isByteStream(bodyIn) ? { ...request, contextValues: values, body: meterBody(handler.method, values, bodyIn) } : { ...request, contextValues: values, body: bodyIn };
      return handler(metered).then(
        (answer) => reportParseFailuresAsInvalid(memory ? releasedWhenOut(answer, memory) : answer, onFixed),
        (error: unknown) => {
          memory?.release();
          throw error;
        },
      );
    }, handler),
  );
}

/**
 * Whether a request's messages come compressed (gRPC, gRPC-web, Connect
 * streaming, Connect unary): each may inflate to its method's size.
 * Neither the official client nor ours compresses what it sends.
 */
function isCompressed(header: Headers): boolean {
  const encoding = header.get("grpc-encoding") ?? header.get("connect-content-encoding") ?? header.get("content-encoding");
  return encoding !== null && encoding !== "identity";
}

/** The body, read only once `bytes` are reserved; a refusal is the call's status. */
async function* reservedFirst(chunks: AsyncIterable<Uint8Array>, memory: CallMemory, bytes: number): AsyncIterable<Uint8Array> {
  try {
    await memory.reserve(bytes, "inflated");
  } catch (error) {
    throw toConnectError(error);
  }
  yield* chunks;
}

/** The answer, whose reservations go back once its body has been taken to the last byte (or abandoned). */
function releasedWhenOut(answer: UniversalServerResponse, memory: CallMemory): UniversalServerResponse {
  const { body } = answer;
  if (body === undefined || body instanceof Uint8Array) {
    memory.release();
    return answer;
  }
  async function* thenRelease(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    try {
      yield* chunks;
    } finally {
      memory.release();
    }
  }
  return { ...answer, body: thenRelease(body) };
}

const isByteStream = (body: UniversalServerRequest["body"]): body is AsyncIterable<Uint8Array> =>
  typeof body === "object" && body !== null && Symbol.asyncIterator in body;

/**
 * A router that registers each method of a service on its own, with its
 * own `readMaxBytes`: Connect-ES applies it to the envelope's length prefix
 * before the payload is read, to a Connect unary body as it is read, and to
 * a compressed message as it inflates.
 */
function sizedRouter(router: ConnectRouter, maxRequestBytes: (method: DescMethod) => number): ConnectRouter {
  const sized: ConnectRouter = {
    handlers: router.handlers,
    service(service, implementation, options) {
      for (const spec of Object.values(createServiceImplSpec(service, implementation).methods)) {
        router.rpc(spec.method, spec.impl as never, { ...options, readMaxBytes: maxRequestBytes(spec.method) });
      }
      return sized;
    },
    rpc(method, impl, options) {
      router.rpc(method, impl, { ...options, readMaxBytes: maxRequestBytes(method) });
      return sized;
    },
  };
  return sized;
}

/** What stands in for an authority (Host, :authority) that is not one; the handlers never read it. */
const PLACEHOLDER_AUTHORITY = "node.invalid";

/**
 * Connect-ES builds the request's URL from the client's Host or :authority
 * with `new URL`, which throws, outside any promise, on one that is not a
 * valid host (a space, an IPv6 address without brackets as Node's own
 * HTTP/2 client sends it): one request would take the node down. The
 * handlers route by path alone, so an authority that does not parse is
 * replaced before Connect-ES reads it.
 */
function usableAuthority(request: NodeRequest): void {
  const secure = "encrypted" in request.socket && request.socket.encrypted === true;
  const base = (authority: string | undefined) => `${secure ? "https" : "http"}://${authority ?? ""}`;
  if ("authority" in request) {
    if (!URL.canParse(base(request.authority))) Object.defineProperty(request, "authority", { value: PLACEHOLDER_AUTHORITY });
  } else if (!URL.canParse(base(request.headers.host))) {
    request.headers.host = PLACEHOLDER_AUTHORITY;
  }
}

export function createNodeHandler(options: AdapterOptions): (request: NodeRequest, response: NodeResponse) => void {
  const handlers = new Map(createNodeHandlers(options).map((handler) => [handler.requestPath, handler]));
  return (request, response) => {
    const handler = handlers.get(request.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      response.writeHead(404);
      response.end();
      return;
    }
    usableAuthority(request);
    // connect-node writes an answer and waits for "drain" or "error"; a
    // stream closed by the client while the answer waits on its flow
    // control emits neither, and the answer would be held for good. Closed
    // before the answer was written: let the writer go on (to nothing).
    response.once("close", () => {
      if (!response.writableFinished) response.emit("drain");
    });
    const universal = universalRequestFromNodeRequest(request, response, undefined, options.contextValues(request));
    handler(universal)
      .then((answer) => universalResponseToNodeResponse(closeIfBodyUnread(answer, request, response), response))
      .catch((reason: unknown) => {
        // A client that went away mid-answer; nothing is left to tell it.
        if (ConnectError.from(reason).code !== Code.Aborted) response.destroy();
      });
  };
}
