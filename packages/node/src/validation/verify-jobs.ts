// The messages between the node's event loop and its verification threads
// (verify-pool.ts, verify-worker.ts): structured-clone data only.
import type { UnverifiedIdentityUpdate, VerifiedIdentityUpdate } from "@parley/identity";
import type { KeyPackageFacts } from "./validators.js";

export type PoolJob =
  | { readonly id: number; readonly kind: "identityUpdate"; readonly update: UnverifiedIdentityUpdate }
  | { readonly id: number; readonly kind: "keyPackage"; readonly bytes: Uint8Array; readonly nowSeconds: bigint };

/** A job as submitted: the pool numbers it. */
export type PoolJobInit = PoolJob extends infer Job ? (Job extends PoolJob ? Omit<Job, "id"> : never) : never;

export interface PoolFailure {
  readonly library: "identity" | "mls" | "other";
  readonly code: string | undefined;
  readonly message: string;
}

export type PoolValue = VerifiedIdentityUpdate | KeyPackageFacts;

export type PoolAnswer =
  | { readonly id: number; readonly value: PoolValue; readonly error?: undefined }
  | { readonly id: number; readonly error: PoolFailure; readonly value?: undefined };
