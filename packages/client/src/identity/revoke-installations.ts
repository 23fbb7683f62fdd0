// Revoking installations of an inbox (../shared/spec/xmtp-client.md
// sections 6 and 7): one identity update with a RevokeAssociation per
// installation, signed by the inbox's recovery identifier (the wallet), as
// the official SDK's revokeInstallations. The groups notice through their
// members' periodic membership check (section 3.4), which removes the
// revoked leaves.
import {
  assertInboxId,
  createSignatureRequest,
  installationIdFromKey,
  installationMember,
  isIdentityError,
  isMember,
  sameMember,
  signerIdentifier,
  type Signer,
} from "@parley/identity";
import { call, type ApiClient } from "../api/api-client.js";
import { ClientError } from "../client-error.js";
import { fetchAssociationStates } from "./identity-lookup.js";

const INSTALLATION_KEY_LENGTH = 32;

/**
 * Publishes the revocation of `installationIds` (raw installation keys) from
 * `inboxId`; nothing for an empty list.
 *
 * @throws ClientError `client.usage` for a signer that is not the inbox's
 *   recovery identifier or an id that is not an installation of the inbox;
 *   `client.not_found` for an inbox with no log; `client.identity` when the
 *   signer's signature is refused; `client.network`.
 */
export async function revokeInstallations(
  api: ApiClient,
  signer: Signer,
  inboxId: string,
  installationIds: readonly Uint8Array[],
  nowNs: () => bigint,
): Promise<void> {
  const unique = [...new Map(installationIds.map((id) => [Buffer.from(id).toString("hex"), id])).values()];
  if (unique.length === 0) return;
  for (const id of unique) {
    if (id.length !== INSTALLATION_KEY_LENGTH) throw new ClientError("client.usage", "an installation id is 32 bytes");
  }
  const state = (await fetchAssociationStates(api, [inboxId])).get(inboxId);
  if (state === undefined) throw new ClientError("client.not_found", `inbox ${inboxId} has no identity`);
  const identifier = await signerIdentifier(signer);
  if (!sameMember(identifier, state.recoveryIdentifier)) {
    throw new ClientError("client.usage", "revocations are signed by the inbox's recovery identifier");
  }
  const members = unique.map((id) => installationMember(installationIdFromKey(id)));
  if (members.some((m) => !isMember(state, m))) throw new ClientError("client.usage", "an id that is not an installation of this inbox");
  const request = createSignatureRequest({
    inboxId: assertInboxId(inboxId),
    clientTimestampNs: nowNs(),
    actions: members.map((member) => ({ type: "revokeAssociation" as const, member, recoveryIdentifier: state.recoveryIdentifier })),
  });
  try {
    await request.signWith(signer);
  } catch (error) {
    if (isIdentityError(error)) throw new ClientError("client.identity", "the signer's signature was refused", { cause: error });
    throw error;
  }
  await call("PublishIdentityUpdate", () => api.identity.publishIdentityUpdate({ identityUpdate: request.toProto() }));
}
