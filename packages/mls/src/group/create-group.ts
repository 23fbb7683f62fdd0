// Creating a group the way libxmtp's build_group_config does
// (xmtp-client.md 1.4, 3.1): a one-member group, suite 3, with XMTP's
// extensions and RequiredCapabilities in the group context.
import { createGroup as engineCreateGroup } from "../engine/ts-mls.js";
import type { AuthenticateMember } from "../authentication.js";
import { plain } from "../crypto/bytes.js";
import { nodeCiphersuite } from "../crypto/provider.js";
import { guard } from "../engine-errors.js";
import { createKeyPackage, decodeKeyPackage, decodePrivateKeyPackage, type InstallationSigner } from "../key-package.js";
import { MlsError } from "../mls-error.js";
import { buildGroupContextExtensions, type XmtpGroupExtensions } from "../xmtp/group-extensions.js";
import { engineContext, wrapState, type GroupState } from "./group-state.js";

/** OpenMLS GroupId::random: 16 bytes. */
const GROUP_ID_LENGTH = 16;

export interface CreateGroupParams {
  readonly signer: InstallationSigner;
  readonly extensions: XmtpGroupExtensions;
  /** Checks our own leaf like every other; usually a lookup that says yes. */
  readonly authenticate: AuthenticateMember;
  /** Defaults to 16 random bytes. */
  readonly groupId?: Uint8Array;
  readonly nowSeconds?: bigint;
}

/**
 * @throws MlsError `mls.usage` for bad parameters, `mls.unauthenticated_member`
 *   when `authenticate` refuses our own leaf.
 */
export async function createGroup(params: CreateGroupParams): Promise<GroupState> {
  const groupId = params.groupId ?? nodeCiphersuite().rng.randomBytes(GROUP_ID_LENGTH);
  if (groupId.length === 0 || groupId.length > 255) throw new MlsError("mls.usage", "group id must be 1 to 255 bytes");
  const bundle = await createKeyPackage(params.signer, params.nowSeconds === undefined ? {} : { nowSeconds: params.nowSeconds });
  const { context, auth } = engineContext(params.authenticate);
  return guard("createGroup", "mls.internal", async () => {
    try {
      const engine = await engineCreateGroup({
        context,
        groupId: plain(groupId),
        keyPackage: decodeKeyPackage(bundle.keyPackage),
        privateKeyPackage: decodePrivateKeyPackage(bundle.privateKeyPackage),
        extensions: buildGroupContextExtensions(params.extensions),
      });
      return wrapState(engine);
    } catch (error) {
      if (auth.refused) throw new MlsError("mls.unauthenticated_member", "createGroup: our own leaf was refused", { cause: error });
      throw error;
    }
  });
}
