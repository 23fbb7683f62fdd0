// The typed transport to a node: XMTP's MlsApi and IdentityApi over gRPC
// (HTTP/2) with Connect-ES, as the official client talks to the network, or
// over a node's in-memory HTTP (ClientOptions.httpClient) with the same gRPC.
// Nothing here interprets what comes back beyond the protobuf types; what a
// failed call means is decided once, in nodeFailure.
//
// A node may be hostile towards its clients, so every call is bounded: a
// deadline per call kind, a size limit on every answer and on every message
// of a stream (checked on the gRPC length prefix, before the bytes are
// read), and HTTP/2 pings that end the streams of a connection that went
// silent. A node that never answers, or answers gigabytes, costs one call's
// deadline and at most READ_MAX_BYTES of memory.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client as ConnectClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { validateReadWriteMaxBytes, type UniversalClientFn } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip, createGrpcTransport } from "@connectrpc/connect-node";
import { identityApi, mlsApi } from "@parley/proto";
import { ClientError, isClientError } from "../client-error.js";

export interface ApiClient {
  readonly mls: ConnectClient<typeof mlsApi.MlsApi>;
  readonly identity: ConnectClient<typeof identityApi.IdentityApi>;
}

/** Deadlines of the unary calls, per kind, in milliseconds. */
export interface CallTimeouts {
  /** Queries and lookups (Query*, Get*, Fetch*, BatchQueryCommitLog). */
  readonly readMs?: number;
  /** Uploads and publishes (Send*, Upload*, Register*, Publish*, BatchPublishCommitLog): they carry up to 25 MiB. */
  readonly writeMs?: number;
}

export interface ApiClientOptions {
  /** `http://host:port` (cleartext HTTP/2) or `https://…`. */
  readonly apiUrl: string;
  /** Connect-ES interceptors around every call (headers, tracing, fault injection). */
  readonly interceptors?: readonly Interceptor[] | undefined;
  /** Carries the calls instead of HTTP/2 to `apiUrl`: a node in this process (ClientOptions.httpClient). */
  readonly httpClient?: UniversalClientFn | undefined;
  /** Overrides DEFAULT_CALL_TIMEOUTS (ClientOptions.callTimeouts). */
  readonly callTimeouts?: CallTimeouts | undefined;
}

/**
 * libxmtp gives every request one deadline of 120 s (xmtp_api_grpc
 * grpc_client/native.rs, `.timeout`); ours are shorter, and shorter still
 * for reads, whose answers are at most the node's 32 MiB page.
 */
export const DEFAULT_CALL_TIMEOUTS: Required<CallTimeouts> = { readMs: 30_000, writeMs: 60_000 };

/**
 * The most bytes read for one answer or one stream message: above the
 * node's answer budget (32 MiB of records a page, packages/node
 * services/limits.ts) with room for the protobuf framing, and Connect's
 * default of 4 GiB far below. libxmtp's own limit is GRPC_PAYLOAD_LIMIT,
 * 25 MiB per message (xmtp_configuration common/api.rs, the decoding limit
 * of its gRPC client); ours is above it only as far as our node's budget
 * requires.
 */
export const READ_MAX_BYTES = 40 * 1024 * 1024;

/**
 * HTTP/2 pings on a connection with open streams, as libxmtp's keepalive
 * (45 s interval, 20 s to answer; native.rs KeepaliveConfig): a stream
 * whose connection went dead ends with an error instead of waiting for ever.
 */
const PING = { pingIntervalMs: 45_000, pingTimeoutMs: 20_000 };

const WRITE_METHOD = /^(Send|Upload|Register|Publish|BatchPublish)/;

/** The transport with a deadline on every unary call that does not set its own; streams run until they end. */
function withDeadlines(transport: Transport, timeouts: Required<CallTimeouts>): Transport {
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.unary(method, signal, timeoutMs ?? (WRITE_METHOD.test(method.name) ? timeouts.writeMs : timeouts.readMs), header, input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => transport.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  // connect-node's defaults for gRPC, spelled out so that a node in memory is
  // spoken to exactly as one over HTTP/2: only the HTTP underneath differs.
  const grpc = {
    baseUrl: options.apiUrl,
    interceptors: [...(options.interceptors ?? [])],
    useBinaryFormat: true,
    acceptCompression: [compressionGzip, compressionBrotli],
    ...validateReadWriteMaxBytes(READ_MAX_BYTES, undefined, undefined),
  };
  const transport = withDeadlines(
    options.httpClient === undefined
      ? createGrpcTransport({ ...grpc, ...PING })
      : createTransport({ ...grpc, sendCompression: null, httpClient: options.httpClient }),
    { ...DEFAULT_CALL_TIMEOUTS, ...options.callTimeouts },
  );
  return {
    mls: createClient(mlsApi.MlsApi, transport),
    identity: createClient(identityApi.IdentityApi, transport),
  };
}

/**
 * What a failed call to the node means, as a ClientError:
 * - `client.node_refused`: the node answered with a refusal of the request
 *   (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, NOT_FOUND).
 *   Our node says RESOURCE_EXHAUSTED both for its rate limit (as
 *   xmtp-node-go, ../shared/spec/xmtp-node-api.md section 5) and for an
 *   answer past its byte limit (the same every time),
 *   and a hostile node can say anything: the code alone never decides that
 *   an input is bad, it counts as an attempt (incoming/incoming-failure.ts).
 * - `client.timeout`: no answer within the call's deadline.
 * - `client.response_too_large`: an answer past READ_MAX_BYTES (Connect
 *   raises it as RESOURCE_EXHAUSTED of its own, told apart by its message;
 *   a node imitating it gets the same treatment as a refusal).
 * - `client.network`: anything else (unreachable, reset, a node error).
 * A ClientError passes through unchanged.
 */
export function nodeFailure(what: string, error: unknown): ClientError {
  if (isClientError(error)) return error;
  const connect = ConnectError.from(error);
  switch (connect.code) {
    case Code.ResourceExhausted:
      if (connect.rawMessage.includes("readMaxBytes")) {
        return new ClientError("client.response_too_large", `${what}: the answer is larger than ${READ_MAX_BYTES} bytes`, { cause: error });
      }
      return new ClientError("client.node_refused", `${what} refused by the node`, { cause: error });
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.NotFound:
      return new ClientError("client.node_refused", `${what} refused by the node`, { cause: error });
    case Code.DeadlineExceeded:
      return new ClientError("client.timeout", `${what}: no answer within the deadline`, { cause: error });
    default:
      return new ClientError("client.network", `${what} failed`, { cause: error });
  }
}

/** The codes of nodeFailure: the call failed, not the input being processed. */
export function isNodeFailure(error: unknown): error is ClientError {
  return (
    isClientError(error) &&
    (error.code === "client.network" || error.code === "client.node_refused" || error.code === "client.timeout" || error.code === "client.response_too_large")
  );
}

/** Runs one call; a failure becomes nodeFailure's ClientError, with the cause kept. */
export async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw nodeFailure(what, error);
  }
}

const PAGE = 100;

/**
 * Whether nothing follows: a page short of the limit, unless the node cut it
 * for its answer byte limit, which it says with a cursor to go on from.
 */
function isLastPage(response: { messages: readonly unknown[]; pagingInfo?: mlsApi.PagingInfo | undefined }): boolean {
  return response.messages.length < PAGE && (response.pagingInfo?.idCursor ?? 0n) === 0n;
}

/**
 * The cursor after a full page: its last id, which must be past the one
 * asked from (ids ascend). A node that answers a full page without moving
 * on would otherwise be asked the same forever.
 *
 * @throws ClientError `client.bad_response`
 */
function nextCursor(from: bigint, last: bigint | undefined, what: string): bigint {
  if (last === undefined || last <= from) throw new ClientError("client.bad_response", `${what}: a full page that does not move past the cursor`);
  return last;
}

/**
 * The group's messages after `cursor`, ascending by id, one page at a time:
 * the next page is asked for only once the caller has taken this one, so a
 * sync holds one page in memory, and what it processed stays processed if
 * a later page fails.
 */
export async function* groupMessagePages(api: ApiClient, groupId: Uint8Array, cursor: bigint): AsyncGenerator<mlsApi.GroupMessage_V1[], void, undefined> {
  let from = cursor;
  for (;;) {
    const response = await call("QueryGroupMessages", () =>
      api.mls.queryGroupMessages({
        groupId,
        pagingInfo: { direction: mlsApi.SortDirection.ASCENDING, limit: PAGE, idCursor: from },
      }),
    );
    const page = response.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value] : []));
    const after = from;
    yield page.filter((m) => m.id > after);
    if (isLastPage(response) || page.length === 0) return;
    from = nextCursor(from, page[page.length - 1]?.id, "QueryGroupMessages");
  }
}

/** The welcomes for `installationKey` after `cursor`, ascending by id, one page at a time (as groupMessagePages). */
export async function* welcomePages(api: ApiClient, installationKey: Uint8Array, cursor: bigint): AsyncGenerator<mlsApi.WelcomeMessage[], void, undefined> {
  let from = cursor;
  for (;;) {
    const response = await call("QueryWelcomeMessages", () =>
      api.mls.queryWelcomeMessages({
        installationKey,
        pagingInfo: { direction: mlsApi.SortDirection.ASCENDING, limit: PAGE, idCursor: from },
      }),
    );
    const ids = response.messages.map((m) => m.version.value?.id ?? 0n);
    const after = from;
    yield response.messages.filter((_, i) => (ids[i] ?? 0n) > after);
    const last = ids[ids.length - 1];
    if (isLastPage(response) || last === undefined) return;
    from = nextCursor(from, last, "QueryWelcomeMessages");
  }
}

export function groupMessageInput(data: Uint8Array, shouldPush: boolean): mlsApi.GroupMessageInput {
  return create(mlsApi.GroupMessageInputSchema, {
    version: { case: "v1", value: { data, senderHmac: new Uint8Array(0), shouldPush } },
  });
}
