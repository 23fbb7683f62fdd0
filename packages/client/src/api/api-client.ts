// The typed transport to a node: XMTP's MlsApi and IdentityApi over gRPC
// (HTTP/2) with Connect-ES, as the official client talks to the network, or
// over a node's in-memory HTTP (ClientOptions.httpClient) with the same gRPC.
// Every failure surfaces as ClientError `client.network`; nothing here
// interprets what comes back beyond the protobuf types.
import { create } from "@bufbuild/protobuf";
import { createClient, type Client as ConnectClient, type Interceptor } from "@connectrpc/connect";
import { validateReadWriteMaxBytes, type UniversalClientFn } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import { compressionBrotli, compressionGzip, createGrpcTransport } from "@connectrpc/connect-node";
import { identityApi, mlsApi } from "@parley/proto";
import { ClientError } from "../client-error.js";

export interface ApiClient {
  readonly mls: ConnectClient<typeof mlsApi.MlsApi>;
  readonly identity: ConnectClient<typeof identityApi.IdentityApi>;
}

export interface ApiClientOptions {
  /** `http://host:port` (cleartext HTTP/2) or `https://…`. */
  readonly apiUrl: string;
  /** Connect-ES interceptors around every call (headers, tracing, fault injection). */
  readonly interceptors?: readonly Interceptor[] | undefined;
  /** Carries the calls instead of HTTP/2 to `apiUrl`: a node in this process (ClientOptions.httpClient). */
  readonly httpClient?: UniversalClientFn | undefined;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  // connect-node's defaults for gRPC, spelled out so that a node in memory is
  // spoken to exactly as one over HTTP/2: only the HTTP underneath differs.
  const grpc = {
    baseUrl: options.apiUrl,
    interceptors: [...(options.interceptors ?? [])],
    useBinaryFormat: true,
    acceptCompression: [compressionGzip, compressionBrotli],
    ...validateReadWriteMaxBytes(undefined, undefined, undefined),
  };
  const transport =
    options.httpClient === undefined
      ? createGrpcTransport(grpc)
      : createTransport({ ...grpc, sendCompression: null, httpClient: options.httpClient });
  return {
    mls: createClient(mlsApi.MlsApi, transport),
    identity: createClient(identityApi.IdentityApi, transport),
  };
}

/** Runs one call; any failure becomes `client.network` with the cause kept. */
export async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new ClientError("client.network", `${what} failed`, { cause: error });
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

/** Every group message after `cursor`, ascending by id (paged). */
export async function queryGroupMessagesAfter(
  api: ApiClient,
  groupId: Uint8Array,
  cursor: bigint,
): Promise<mlsApi.GroupMessage_V1[]> {
  const out: mlsApi.GroupMessage_V1[] = [];
  let from = cursor;
  for (;;) {
    const response = await call("QueryGroupMessages", () =>
      api.mls.queryGroupMessages({
        groupId,
        pagingInfo: { direction: mlsApi.SortDirection.ASCENDING, limit: PAGE, idCursor: from },
      }),
    );
    const page = response.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value] : []));
    out.push(...page.filter((m) => m.id > from));
    if (isLastPage(response) || page.length === 0) return out;
    from = nextCursor(from, page[page.length - 1]?.id, "QueryGroupMessages");
  }
}

/** Every welcome for `installationKey` after `cursor`, ascending by id. */
export async function queryWelcomesAfter(
  api: ApiClient,
  installationKey: Uint8Array,
  cursor: bigint,
): Promise<mlsApi.WelcomeMessage[]> {
  const out: mlsApi.WelcomeMessage[] = [];
  let from = cursor;
  for (;;) {
    const response = await call("QueryWelcomeMessages", () =>
      api.mls.queryWelcomeMessages({
        installationKey,
        pagingInfo: { direction: mlsApi.SortDirection.ASCENDING, limit: PAGE, idCursor: from },
      }),
    );
    const ids = response.messages.map((m) => m.version.value?.id ?? 0n);
    out.push(...response.messages.filter((_, i) => (ids[i] ?? 0n) > from));
    const last = ids[ids.length - 1];
    if (isLastPage(response) || last === undefined) return out;
    from = nextCursor(from, last, "QueryWelcomeMessages");
  }
}

export function groupMessageInput(data: Uint8Array, shouldPush: boolean): mlsApi.GroupMessageInput {
  return create(mlsApi.GroupMessageInputSchema, {
    version: { case: "v1", value: { data, senderHmac: new Uint8Array(0), shouldPush } },
  });
}
