// The key packages of the installations a membership commit adds
// (../shared/spec/xmtp-client.md sections 1.3 and 3.3; libxmtp mls_sync.rs
// `get_keypackages_for_installation_ids`, xmtp_id verified_key_package_v2.rs).
// The node answers FetchKeyPackages with one key package per installation
// asked, by position, and it may lie: serve another installation's key
// package (one revoked from the inbox, or of another inbox) for the one
// asked, or one that does not verify. Each is checked here before the
// engine sees it; one that fails is not added and is listed as failed in
// 0xFF01, as libxmtp lists an installation whose key package does not
// verify. libxmtp checks only the key package itself, and adds the
// installation its signature key names even when that is not the one it
// asked for (the receivers then refuse the commit: a fork); we also refuse
// a key package that is not the asked installation's, or whose installation
// is not in its inbox's latest verified state.
import { validateKeyPackage, type ValidatedKeyPackage } from "@parley/mls";
import { call } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import { hasInstallation } from "../identity/inbox-history.js";
import { MAX_KEY_PACKAGE_BYTES } from "../key-packages.js";
import { logRefused } from "../logging.js";
import type { Histories } from "./membership-rules.js";

/** An installation to add (hex key) and the inbox whose state implies it. */
export interface WantedInstallation {
  readonly installationKey: string;
  readonly inboxId: string;
}

export interface AddedKeyPackages {
  /** Key packages that passed, in the order asked. */
  readonly add: Uint8Array[];
  /** Hex keys of the installations without one that passed: the node had none, or served one we refuse. */
  readonly failed: string[];
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));

/**
 * Why a key package served for `wanted` is refused, or undefined when it is
 * that installation's, verifies (suite, both signatures, lifetime at our
 * clock, XMTP's credential and capabilities: validateKeyPackage) and the
 * installation is in its inbox's latest verified state.
 */
export async function keyPackageRefusal(
  bytes: Uint8Array,
  wanted: WantedInstallation,
  histories: Histories,
  nowSeconds: bigint,
): Promise<{ readonly reason: string; readonly cause?: unknown } | undefined> {
  // Larger than any key package a client makes; the node refuses them on upload.
  if (bytes.length > MAX_KEY_PACKAGE_BYTES) return { reason: `a key package larger than ${MAX_KEY_PACKAGE_BYTES} bytes` };
  let checked: ValidatedKeyPackage;
  try {
    checked = await validateKeyPackage(bytes, { nowSeconds });
  } catch (error) {
    return { reason: "a key package that does not verify", cause: error };
  }
  if (hex(checked.installationKey) !== wanted.installationKey) return { reason: "another installation's key package" };
  if (checked.inboxId !== wanted.inboxId) return { reason: "a key package naming another inbox" };
  // The log we replayed and verified, never a state the node names.
  if (!hasInstallation(histories.get(wanted.inboxId)?.latest, checked.installationKey)) {
    return { reason: "an installation not in its inbox's latest verified state" };
  }
  return undefined;
}

/**
 * Fetches and checks the key packages of `wanted` (one FetchKeyPackages
 * call). A refused one is logged (`refused.key_package`, with the
 * installation id and the rule) and listed as failed with those the node
 * has none for.
 *
 * @throws ClientError `client.network`; `client.bad_response` when the node
 *   answers with another number of key packages than asked.
 */
export async function fetchAddedKeyPackages(
  ctx: ClientContext,
  groupId: Uint8Array,
  wanted: readonly WantedInstallation[],
  histories: Histories,
): Promise<AddedKeyPackages> {
  if (wanted.length === 0) return { add: [], failed: [] };
  const fetched = (
    await call("FetchKeyPackages", () => ctx.api.mls.fetchKeyPackages({ installationKeys: wanted.map((w) => fromHex(w.installationKey)) }))
  ).keyPackages;
  if (fetched.length !== wanted.length) throw new ClientError("client.bad_response", "FetchKeyPackages returned the wrong count");
  const nowSeconds = ctx.nowNs() / 1_000_000_000n;
  const add: Uint8Array[] = [];
  const failed: string[] = [];
  for (const [i, w] of wanted.entries()) {
    const bytes = fetched[i]?.keyPackageTlsSerialized ?? new Uint8Array(0);
    // None on the node: an installation that never uploaded one, as libxmtp lists it.
    if (bytes.length === 0) {
      failed.push(w.installationKey);
      continue;
    }
    const refusal = await keyPackageRefusal(bytes, w, histories, nowSeconds);
    if (refusal === undefined) {
      add.push(bytes);
      continue;
    }
    failed.push(w.installationKey);
    logRefused(ctx.logger, "refused.key_package", { groupId: hex(groupId), installationId: w.installationKey, ...refusal });
  }
  return { add, failed };
}
