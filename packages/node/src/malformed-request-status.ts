// Connect-ES answers a gRPC request whose body does not parse as protobuf
// with INTERNAL ("parse binary: …"), before any interceptor of ours runs.
// Malformed input is the caller's error, so on gRPC (what XMTP clients
// speak) that status is rewritten to INVALID_ARGUMENT on its way out, in the
// headers of a trailers-only answer or in the trailers.
import type http2 from "node:http2";

const INTERNAL = "13";
const INVALID_ARGUMENT = "3";

type Headers = Record<string, string | string[] | number | undefined>;

function fix(headers: Headers | undefined): void {
  if (headers?.["grpc-status"] !== INTERNAL) return;
  const message = decodeURIComponent(String(headers["grpc-message"] ?? ""));
  if (message.startsWith("parse binary:")) headers["grpc-status"] = INVALID_ARGUMENT;
}

export function reportMalformedRequestsAsInvalid(
  request: http2.Http2ServerRequest,
  response: http2.Http2ServerResponse,
): void {
  const contentType = String(request.headers["content-type"] ?? "");
  if (!contentType.startsWith("application/grpc") || contentType.startsWith("application/grpc-web")) return;
  const writeHead = response.writeHead.bind(response) as (status: number, headers?: Headers) => unknown;
  response.writeHead = ((status: number, headers?: Headers) => {
    fix(headers);
    return writeHead(status, headers);
  }) as typeof response.writeHead;
  const addTrailers = response.addTrailers.bind(response);
  response.addTrailers = (trailers) => {
    fix(trailers);
    addTrailers(trailers);
  };
}
