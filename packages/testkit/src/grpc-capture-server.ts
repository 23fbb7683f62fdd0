// A tiny gRPC server over cleartext HTTP/2 that records the raw bytes of every
// request and answers enough of XMTP's registration and lookup calls, from
// memory, for the official client to register. Test tooling only: it captures
// what @xmtp/node-sdk sends so that the bytes can become fixtures. It is not
// the node and validates nothing.
import { gunzipSync } from "node:zlib";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { associations} from "@parley/proto";
import { decode, encode, identityApi, mlsApi } from "@parley/proto";

export interface CapturedCall {
  /** The gRPC method path, e.g. `/xmtp.identity.api.v1.IdentityApi/GetInboxIds`. */
  readonly path: string;
  /** The request message, uncompressed, exactly as the client encoded it. */
  readonly request: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

export interface CaptureServer {
  readonly url: string;
  readonly calls: CapturedCall[];
  close(): Promise<void>;
}

const GRPC_OK = 0;
const GRPC_UNIMPLEMENTED = 12;

interface StoredUpdate {
  readonly sequenceId: bigint;
  readonly serverTimestampNs: bigint;
  readonly update: associations.IdentityUpdate;
}

/** The in-memory state the answers come from. */
class CaptureState {
  private sequence = 0n;
  readonly updates = new Map<string, StoredUpdate[]>();
  readonly inboxByAddress = new Map<string, string>();
  readonly keyPackages = new Map<string, Uint8Array>();

  publish(update: associations.IdentityUpdate): void {
    this.sequence += 1n;
    const log = this.updates.get(update.inboxId) ?? [];
    log.push({ sequenceId: this.sequence, serverTimestampNs: BigInt(Date.now()) * 1_000_000n, update });
    this.updates.set(update.inboxId, log);
    for (const action of update.actions) {
      if (action.kind.case === "createInbox") {
        this.inboxByAddress.set(action.kind.value.initialIdentifier, update.inboxId);
      } else if (action.kind.case === "add") {
        const member = action.kind.value.newMemberIdentifier?.kind;
        if (member?.case === "ethereumAddress") this.inboxByAddress.set(member.value, update.inboxId);
      }
    }
  }
}

type Handler = (request: Uint8Array, state: CaptureState) => Uint8Array;

function unary<I extends DescMessage, O extends DescMessage>(
  input: I,
  output: O,
  answer: (request: MessageShape<I>, state: CaptureState) => MessageShape<O>,
): Handler {
  return (bytes, state) => encode(output, answer(decode(input, bytes), state));
}

const handlers: Record<string, Handler> = {
  "/xmtp.identity.api.v1.IdentityApi/GetInboxIds": unary(
    identityApi.GetInboxIdsRequestSchema,
    identityApi.GetInboxIdsResponseSchema,
    (request, state) =>
      create(identityApi.GetInboxIdsResponseSchema, {
        responses: request.requests.map((r) => {
          const inboxId = state.inboxByAddress.get(r.identifier);
          return { identifier: r.identifier, ...(inboxId === undefined ? {} : { inboxId }) };
        }),
      }),
  ),
  "/xmtp.identity.api.v1.IdentityApi/GetIdentityUpdates": unary(
    identityApi.GetIdentityUpdatesRequestSchema,
    identityApi.GetIdentityUpdatesResponseSchema,
    (request, state) =>
      create(identityApi.GetIdentityUpdatesResponseSchema, {
        responses: request.requests.map((r) => ({
          inboxId: r.inboxId,
          updates: (state.updates.get(r.inboxId) ?? [])
            .filter((u) => u.sequenceId > r.sequenceId)
            .map((u) => ({ sequenceId: u.sequenceId, serverTimestampNs: u.serverTimestampNs, update: u.update })),
        })),
      }),
  ),
  "/xmtp.identity.api.v1.IdentityApi/PublishIdentityUpdate": unary(
    identityApi.PublishIdentityUpdateRequestSchema,
    identityApi.PublishIdentityUpdateResponseSchema,
    (request, state) => {
      if (request.identityUpdate) state.publish(request.identityUpdate);
      return create(identityApi.PublishIdentityUpdateResponseSchema);
    },
  ),
  "/xmtp.mls.api.v1.MlsApi/UploadKeyPackage": (bytes) => {
    decode(mlsApi.UploadKeyPackageRequestSchema, bytes);
    return new Uint8Array(0);
  },
  "/xmtp.mls.api.v1.MlsApi/QueryWelcomeMessages": unary(
    mlsApi.QueryWelcomeMessagesRequestSchema,
    mlsApi.QueryWelcomeMessagesResponseSchema,
    () => create(mlsApi.QueryWelcomeMessagesResponseSchema),
  ),
  "/xmtp.mls.api.v1.MlsApi/QueryGroupMessages": unary(
    mlsApi.QueryGroupMessagesRequestSchema,
    mlsApi.QueryGroupMessagesResponseSchema,
    () => create(mlsApi.QueryGroupMessagesResponseSchema),
  ),
};

/** Splits a gRPC request body into its length-prefixed messages. */
function unframe(body: Buffer, encoding: string | undefined): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let at = 0;
  while (at + 5 <= body.length) {
    const compressed = body[at] === 1;
    const length = body.readUInt32BE(at + 1);
    let message: Uint8Array = body.subarray(at + 5, at + 5 + length);
    if (compressed) {
      if (encoding !== "gzip") throw new Error(`unsupported grpc-encoding ${encoding ?? "(none)"}`);
      message = gunzipSync(message);
    }
    messages.push(new Uint8Array(message));
    at += 5 + length;
  }
  return messages;
}

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Starts the server on 127.0.0.1 (port 0 picks a free one). */
export async function startCaptureServer(port = 0): Promise<CaptureServer> {
  const state = new CaptureState();
  const calls: CapturedCall[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  server.on("stream", (stream, headers) => {
    const path = String(headers[":path"]);
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":")) flat[k] = String(v);
      const encoding = headers["grpc-encoding"] as string | undefined;
      let answer: Uint8Array | undefined;
      let status = GRPC_OK;
      let message = "";
      try {
        const [request = new Uint8Array(0)] = unframe(Buffer.concat(chunks), encoding);
        calls.push({ path, request, headers: flat });
        const handler = handlers[path];
        if (handler) answer = handler(request, state);
        else {
          status = GRPC_UNIMPLEMENTED;
          message = `capture server does not answer ${path}`;
        }
      } catch (error) {
        status = 3; // INVALID_ARGUMENT
        message = String(error);
      }
      if (stream.destroyed) return;
      if (answer === undefined) {
        // Trailers-only response.
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": String(status), "grpc-message": encodeURIComponent(message) },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(GRPC_OK) }));
      stream.end(frame(answer));
    });
  });

  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
