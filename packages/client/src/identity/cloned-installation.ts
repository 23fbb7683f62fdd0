// Noticing a second holder of our installation key: a stolen device state,
// or a restored backup running beside the original. Nothing in MLS or
// XMTP's identity stops it (it signs as we do); what it signs and we did not
// make is the evidence, reported so that the app can revoke the
// installation (Client.revokeInstallations) and register a new one:
// - a commit or proposal signed by our leaf that is not one of our payloads
//   (process-envelope.ts; @parley/mls returns it as `from_own_leaf`);
// - an application message signed by our leaf that we did not send;
// - a key package for our installation on the node that we did not make:
//   the other holder joined a group through a welcome we did not get and
//   rotated the key package it used, as every XMTP client does after a join
//   (../shared/spec/xmtp-client.md section 1.3).
// Only evidence that a signature with our key proves is reported: a message
// that merely claims our leaf (sender data any member can write) and does
// not verify is an ordinary refusal.
import { validateKeyPackage } from "@parley/mls";
import { call } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { MAX_KEY_PACKAGE_BYTES } from "../key-packages.js";


/**
 * Compares the key package the node hands out for our installation with
 * the ones we made. One that does not validate, or is not for our
 * installation, is the node's fault and proves nothing about a clone.
 *
 * @throws ClientError `client.network`
 */
export async function checkOwnKeyPackage(ctx: ClientContext): Promise<void> {
  const response = await call("FetchKeyPackages", () => ctx.api.mls.fetchKeyPackages({ installationKeys: [ctx.installationKey] }));
  const bytes = response.keyPackages[0]?.keyPackageTlsSerialized;
  // Larger than any key package a client makes: the node's fault, not parsed.
  if (bytes === undefined || bytes.length === 0 || bytes.length > MAX_KEY_PACKAGE_BYTES) return;
  let initKey: Uint8Array;
  try {
    const checked = await validateKeyPackage(bytes);
    if (Buffer.compare(checked.installationKey, ctx.installationKey) !== 0) return;
    initKey = checked.initKey;
  } catch {
    return;
  }
  if (ctx.store.keyPackage(initKey) === undefined) ctx.clones.reportKeyPackage(Buffer.from(initKey).toString("hex"));
}
