// Our key packages (../shared/spec/xmtp-client.md section 1.3): each one a
// last-resort package (many adders may use it), its private half kept by
// init key so that a welcome wrapped to it can be opened.
import { createKeyPackage } from "@parley/mls";
import { call } from "./api/api-client.js";
import type { ClientContext } from "./client-context.js";

/** Makes, stores, then uploads a new key package. @throws ClientError `client.network` */
export async function uploadKeyPackage(ctx: ClientContext): Promise<Uint8Array> {
  const bundle = await createKeyPackage(ctx.mlsSigner);
  ctx.store.saveKeyPackage(bundle.initKey, bundle.keyPackage, bundle.privateKeyPackage, ctx.nowNs());
  await call("UploadKeyPackage", () =>
    ctx.api.mls.uploadKeyPackage({ keyPackage: { keyPackageTlsSerialized: bundle.keyPackage }, isInboxIdCredential: true }),
  );
  return bundle.initKey;
}
