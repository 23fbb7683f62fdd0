// How every interop test starts the official client: against the Parley
// node under test (the SDK's "local" env pointed at it), in memory, without
// device sync (no history-sync server here), quiet.
import type { RunningNode } from "@parley/node";
import { ApiUrls } from "@xmtp/node-sdk";

export const officialOptions = { env: "local", dbPath: null, disableDeviceSync: true, loggingLevel: "Off" } as const;

/** Points the official SDK's "local" env at `node` (the SDK reads ApiUrls when a client is created). */
export function useNodeForOfficial(node: RunningNode): void {
  (ApiUrls as Record<string, string>).local = node.url;
}
