// The official SDK's network names (`env`) and their gRPC endpoints, as
// @xmtp/node-sdk 5.5.0 has them (`ApiUrls`); "local" is a node on this
// machine, e.g. `npm start` of this repository.

export const ApiUrls = {
  local: "http://localhost:5556",
  dev: "https://grpc.dev.xmtp.network:443",
  production: "https://grpc.production.xmtp.network:443",
} as const;

export type XmtpEnv = keyof typeof ApiUrls;

/** `apiUrl` when given, else the URL of `env`, else dev (the official default); undefined for an unknown env. */
export function resolveApiUrl(options: { readonly apiUrl?: string; readonly env?: XmtpEnv }): string | undefined {
  if (options.apiUrl !== undefined) return options.apiUrl;
  const env = options.env ?? "dev";
  return Object.hasOwn(ApiUrls, env) ? ApiUrls[env] : undefined;
}
