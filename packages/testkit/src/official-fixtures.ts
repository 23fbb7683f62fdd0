// Loads the requests captured from the official @xmtp/node-sdk (see
// scripts/capture-official-registration.ts), which live beside the protocol
// in @parley/proto's fixtures folder.
import { readFileSync } from "node:fs";

const registrationDir = new URL("../../proto/fixtures/official-sdk/registration/", import.meta.url);

export interface CapturedRequest {
  /** The gRPC method path, e.g. `/xmtp.mls.api.v1.MlsApi/UploadKeyPackage`. */
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface OfficialRegistration {
  readonly capturedWith: string;
  readonly walletAddress: string;
  readonly inboxId: string;
  /** Hex of the installation's Ed25519 public key. */
  readonly installationId: string;
  /** The texts the official client handed the wallet to sign, in order. */
  readonly signedTexts: readonly string[];
  /** Every request of Client.create, in the order the client sent them. */
  readonly requests: readonly CapturedRequest[];
  /** The request of the first call to `method` (e.g. "PublishIdentityUpdate"). */
  request(method: string): Uint8Array;
}

interface Manifest {
  capturedWith: string;
  walletAddress: string;
  inboxId: string;
  installationId: string;
  signedTexts: string[];
  calls: { file: string; path: string }[];
}

/** The registration of one new wallet by the official client. */
export function officialRegistration(): OfficialRegistration {
  const manifest = JSON.parse(
    readFileSync(new URL("manifest.json", registrationDir), "utf8"),
  ) as Manifest;
  const requests = manifest.calls.map((call) => ({
    path: call.path,
    bytes: new Uint8Array(readFileSync(new URL(call.file, registrationDir))),
  }));
  return {
    capturedWith: manifest.capturedWith,
    walletAddress: manifest.walletAddress,
    inboxId: manifest.inboxId,
    installationId: manifest.installationId,
    signedTexts: manifest.signedTexts,
    requests,
    request(method) {
      const found = requests.find((r) => r.path.endsWith(`/${method}`));
      if (!found) throw new Error(`no captured ${method} request`);
      return found.bytes;
    },
  };
}

const groupDir = new URL("../../proto/fixtures/official-sdk/group/", import.meta.url);

export interface OfficialGroupTraffic {
  readonly capturedWith: string;
  /** Hex of the MLS group id. */
  readonly groupId: string;
  readonly alice: { readonly inboxId: string; readonly installationId: string };
  readonly bob: { readonly inboxId: string; readonly installationId: string };
  readonly texts: readonly string[];
  /** alice creates a group with bob and sends; bob joins and replies: every unary request in order. */
  readonly requests: readonly { readonly method: string; readonly bytes: Uint8Array }[];
}

/** The group and welcome traffic of two official clients (scripts/capture-official-group.ts). */
export function officialGroupTraffic(): OfficialGroupTraffic {
  const manifest = JSON.parse(readFileSync(new URL("manifest.json", groupDir), "utf8")) as Omit<
    OfficialGroupTraffic,
    "requests"
  > & { calls: { file: string; method: string }[] };
  return {
    capturedWith: manifest.capturedWith,
    groupId: manifest.groupId,
    alice: manifest.alice,
    bob: manifest.bob,
    texts: manifest.texts,
    requests: manifest.calls.map((call) => ({
      method: call.method,
      bytes: new Uint8Array(readFileSync(new URL(call.file, groupDir))),
    })),
  };
}
