// Tonic, the gRPC client inside libxmtp, waits for a server stream's response
// headers before it hands the stream to the caller; Connect writes headers
// with the first message. A subscription with nothing to send yet would hang
// the client, so for gRPC server streams the headers go out at once (as the
// reference node does), and a status Connect later puts in the headers
// (a trailers-only error) is moved to the trailers, where gRPC also reads it.
import type http2 from "node:http2";

const STREAMING_PATHS = new Set([
  "/xmtp.mls.api.v1.MlsApi/SubscribeGroupMessages",
  "/xmtp.mls.api.v1.MlsApi/SubscribeWelcomeMessages",
  "/xmtp.mls.api.v1.MlsApi/Subscribe",
  "/grpc.health.v1.Health/Watch",
]);

const STATUS_HEADERS = ["grpc-status", "grpc-message", "grpc-status-details-bin"];

export function sendStreamHeadersEarly(request: http2.Http2ServerRequest, response: http2.Http2ServerResponse): void {
  const contentType = String(request.headers["content-type"] ?? "");
  const isGrpc = contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web");
  if (!isGrpc || !STREAMING_PATHS.has(request.url)) return;

  response.writeHead(200, { "content-type": contentType });
  response.writeHead = ((_status: number, headers?: Record<string, string | string[] | number>) => {
    const trailers: Record<string, string> = {};
    for (const name of STATUS_HEADERS) {
      const value = headers?.[name];
      if (value !== undefined) trailers[name] = Array.isArray(value) ? value.join(",") : String(value);
    }
    if (Object.keys(trailers).length > 0) response.addTrailers(trailers);
    return response;
  }) as typeof response.writeHead;
}
