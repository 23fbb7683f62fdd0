// What an intent (section 3.8) must keep to survive a crash: the operation
// and its parameters, to regenerate the commit on a new epoch; and, for the
// attempt in flight, the Welcome and who it is for, to be wrapped and sent
// once the commit is confirmed in the node's order (the wrap names that
// commit's cursor, so it can only be made then).
import { create } from "@bufbuild/protobuf";
import { wrapWelcome, type CommitResult } from "@parley/mls";
import { mlsApi } from "@parley/proto";
import { call } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import type { IntentRow } from "../store/local-store.js";
import type { AdminListChange } from "./admin-lists.js";
import type { MetadataField, PermissionPolicy, PermissionUpdateType } from "./group-permissions.js";

/** Every change we commit, by the operation that regenerates it. */
export type IntentSpec =
  | { readonly kind: "key_update"; readonly params: Record<string, never> }
  | { readonly kind: "membership"; readonly params: { readonly addInboxes?: readonly string[]; readonly removeInboxes?: readonly string[] } }
  | { readonly kind: "metadata"; readonly params: { readonly key: string; readonly value: string } }
  | { readonly kind: "admins"; readonly params: { readonly change: AdminListChange; readonly inboxId: string } }
  | {
      readonly kind: "permission";
      readonly params: { readonly type: PermissionUpdateType; readonly policy: PermissionPolicy; readonly metadataField?: MetadataField };
    };

const KINDS = new Set(["key_update", "membership", "metadata", "admins", "permission"]);

/** @throws ClientError `client.bad_store` for a row this version did not write. */
export function intentSpecOf(row: IntentRow): IntentSpec {
  let params: unknown;
  try {
    params = JSON.parse(row.params);
  } catch (cause) {
    throw new ClientError("client.bad_store", `intent ${row.id}: parameters do not parse`, { cause });
  }
  if (!KINDS.has(row.kind) || typeof params !== "object" || params === null) {
    throw new ClientError("client.bad_store", `intent ${row.id}: unknown kind ${row.kind}`);
  }
  return { kind: row.kind, params } as IntentSpec;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

interface Recipient {
  readonly installationKey: string;
  readonly initKey: string;
}

/** The Welcome's recipients, as the intent row keeps them. */
export function recipientsOf(result: CommitResult): string | undefined {
  if (result.welcome === undefined || result.added.length === 0) return undefined;
  return JSON.stringify(result.added.map((kp): Recipient => ({ installationKey: hex(kp.installationKey), initKey: hex(kp.initKey) })));
}

/**
 * Wraps the intent's Welcome to each recipient, naming the commit's cursor
 * (WelcomeMetadata.message_cursor), and sends them in one call.
 *
 * @throws ClientError `client.network`, `client.bad_store`
 */
export async function sendIntentWelcomes(ctx: ClientContext, row: IntentRow): Promise<void> {
  if (row.welcome === undefined || row.recipients === undefined) return;
  if (row.cursor === undefined) throw new ClientError("client.bad_store", `intent ${row.id}: committed without a cursor`);
  const welcome = row.welcome;
  const cursor = row.cursor;
  const recipients = JSON.parse(row.recipients) as Recipient[];
  const messages = recipients.map((r) => {
    const wrapped = wrapWelcome(welcome, Buffer.from(r.initKey, "hex"), cursor);
    return create(mlsApi.WelcomeMessageInputSchema, {
      version: {
        case: "v1",
        value: {
          installationKey: Buffer.from(r.installationKey, "hex"),
          data: wrapped.data,
          hpkePublicKey: wrapped.hpkePublicKey,
          wrapperAlgorithm: wrapped.wrapperAlgorithm,
          welcomeMetadata: wrapped.welcomeMetadata,
        },
      },
    });
  });
  await call("SendWelcomeMessages", () => ctx.api.mls.sendWelcomeMessages({ messages }));
}
