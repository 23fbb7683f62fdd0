// Our key packages (../shared/spec/xmtp-client.md section 1.3): each one a
// last-resort package (many adders may use it), its private half kept by
// init key so that a welcome wrapped to it can be opened. They are replaced
// after a welcome consumes one and on libxmtp's schedule, and a replaced
// one's private half is deleted once late welcomes have had their time.
import { createKeyPackage } from "@parley/mls";
import { Code, ConnectError } from "@connectrpc/connect";
import { nodeFailure } from "./api/api-client.js";
import type { ClientContext } from "./client-context.js";

const DAY_NS = 24n * 3600n * 1_000_000_000n;
/** libxmtp KEY_PACKAGE_ROTATION_INTERVAL_NS: 30 days. */
export const KEY_PACKAGE_ROTATION_INTERVAL_NS = 30n * DAY_NS;
/** libxmtp KEYS_EXPIRATION_INTERVAL_NS (production): 1 day. */
export const KEYS_EXPIRATION_INTERVAL_NS = DAY_NS;

/**
 * Key packages are a few hundred bytes; the node refuses any over 64 KiB
 * (its answer budget), and one served larger is not parsed.
 */
export const MAX_KEY_PACKAGE_BYTES = 64 * 1024;

/** Makes, stores, then uploads a new key package. @throws ClientError `client.network` */
export async function uploadKeyPackage(ctx: ClientContext): Promise<Uint8Array> {
  const bundle = await createKeyPackage(ctx.mlsSigner);
  // Kept before the upload: if the node takes it and the answer is lost, a
  // welcome wrapped to it must still open.
  ctx.store.saveKeyPackage(bundle.initKey, bundle.keyPackage, bundle.privateKeyPackage, ctx.nowNs());
  await upload(ctx, bundle.initKey, bundle.keyPackage);
  return bundle.initKey;
}

async function upload(ctx: ClientContext, initKey: Uint8Array, keyPackage: Uint8Array): Promise<void> {
  try {
    await ctx.api.mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: keyPackage }, isInboxIdCredential: true });
  } catch (error) {
    // The node keeps a key package of this installation that starts later
    // (our clock went back, or another holder of our key uploaded one:
    // checkOwnKeyPackage reports that). Trying again every sync would fail
    // every sync; the node's newer one stays in use.
    if (!(error instanceof ConnectError && error.code === Code.FailedPrecondition)) {
      throw nodeFailure("UploadKeyPackage", error);
    }
  }
  ctx.store.markKeyPackageUploaded(initKey);
}

/**
 * Uploads a new key package when a welcome used the newest (who fetched it
 * knows we joined something) or it is 30 days old; deletes the
 * private halves of those replaced more than a day ago.
 *
 * @throws ClientError `client.network`
 */
export async function maintainKeyPackages(ctx: ClientContext): Promise<void> {
  const unsent = ctx.store.newestKeyPackageNotUploaded();
  if (unsent !== undefined) await upload(ctx, unsent.initKey, unsent.keyPackage);
  const newest = ctx.store.newestKeyPackageNs();
  // The use is recorded with the join, so a rotation that failed (network)
  // is done by a later sync.
  if (ctx.store.newestKeyPackageUsed() || newest === undefined || ctx.nowNs() - newest >= KEY_PACKAGE_ROTATION_INTERVAL_NS) {
    await uploadKeyPackage(ctx);
  }
  if (ctx.store.deleteKeyPackagesReplacedBefore(ctx.nowNs() - KEYS_EXPIRATION_INTERVAL_NS) > 0) ctx.store.scrub();
}
