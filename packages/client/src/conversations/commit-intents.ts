// The commits intents (section 3.8) stand for: how each operation is built
// on the current epoch (`buildIntentCommit`), and, for the attempt in
// flight, the Welcome wrapped to each recipient and sent once the commit is
// confirmed in the node's order (the wrap names that commit's cursor, so it
// can only be made then). What an intent keeps is a typed record of the
// store (../store/intent-record.ts).
import { create } from "@bufbuild/protobuf";
import {
  asInstallationKey,
  groupExtensions,
  selfUpdate,
  updateGroupExtensions,
  updateMembership,
  wrapWelcome,
  type CommitResult,
  type GroupState,
} from "@parley/mls";
import { mlsApi } from "@parley/proto";
import { call } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { ClientError } from "../client-error.js";
import type { IntentSpec, WelcomeRecipient } from "../store/intent-record.js";
import type { IntentRow } from "../store/local-store.js";
import { identityAuthenticator, type IdentityAuthenticator } from "../identity/identity-lookup.js";
import { changeAdminList } from "./admin-lists.js";
import { decodeMutableMetadata, encodeMutableMetadata, encodePermissions } from "./group-metadata.js";
import { withPermission } from "./group-permissions.js";
import { planMembershipUpdate } from "./membership-update.js";
import { decodePolicySet } from "./permissions.js";

export type { IntentSpec };

/** The commit a stored intent stands for. @throws ClientError `client.bad_store` for a message intent. */
export function intentSpecOf(row: IntentRow): IntentSpec {
  if (row.operation.kind === "message") throw new ClientError("client.bad_store", `intent ${row.id}: a message, not a commit`);
  return row.operation;
}

/**
 * The commit an intent stands for, built on `state`; undefined when there
 * is nothing to change.
 *
 * @throws ClientError `client.network` when a member's log could not be
 *   fetched (not the engine's "unauthenticated"), `client.bad_store`.
 */
export async function buildIntentCommit(
  ctx: ClientContext,
  spec: IntentSpec,
  state: GroupState,
  authenticate: IdentityAuthenticator = identityAuthenticator(ctx.api, ctx.inboxLogs),
): Promise<CommitResult | undefined> {
  try {
    return await buildWith(ctx, spec, state, authenticate);
  } catch (error) {
    throw authenticate.networkFailure() ?? error;
  }
}

async function buildWith(ctx: ClientContext, spec: IntentSpec, state: GroupState, authenticate: IdentityAuthenticator): Promise<CommitResult | undefined> {
  switch (spec.kind) {
    case "key_update":
      return selfUpdate(state, authenticate);
    case "membership": {
      // The plan's logs are the ones the engine checks the new leaves against: fetched and replayed once.
      const plan = await planMembershipUpdate(ctx, state, spec.params, authenticate.histories);
      if (!plan.changed) return undefined;
      return updateMembership(state, { add: plan.add, remove: plan.remove.map(asInstallationKey), membership: plan.membership, authenticate });
    }
    case "metadata": {
      const meta = decodeMutableMetadata(groupExtensions(state).mutableMetadata);
      meta.attributes[spec.params.key] = spec.params.value;
      return updateGroupExtensions(state, { mutableMetadata: encodeMutableMetadata(meta) }, authenticate);
    }
    case "admins":
      return updateGroupExtensions(state, { mutableMetadata: changeAdminList(groupExtensions(state), spec.params.change, spec.params.inboxId) }, authenticate);
    case "permission": {
      const policies = decodePolicySet(groupExtensions(state).permissions);
      if (policies === undefined) throw new ClientError("client.bad_store", "the group's permission policies do not decode");
      const { type, policy, metadataField } = spec.params;
      return updateGroupExtensions(state, { permissions: encodePermissions(withPermission(policies, type, policy, metadataField)) }, authenticate);
    }
  }
}

/** The Welcome's recipients, as the intent keeps them. */
export function recipientsOf(result: CommitResult): WelcomeRecipient[] | undefined {
  if (result.welcome === undefined || result.added.length === 0) return undefined;
  return result.added.map((kp) => ({ installationKey: kp.installationKey, initKey: kp.initKey }));
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
  const messages = row.recipients.map((r) => {
    const wrapped = wrapWelcome(welcome, r.initKey, cursor);
    return create(mlsApi.WelcomeMessageInputSchema, {
      version: {
        case: "v1",
        value: {
          installationKey: r.installationKey,
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
