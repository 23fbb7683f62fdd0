// Real MLS bytes for tests of code that only carries them (the node): a key
// package, an application message and a commit of one small group, made
// with @parley/mls.
import { create, toBinary } from "@bufbuild/protobuf";
import {
  asInboxId,
  createGroup,
  createKeyPackage,
  ed25519Keygen,
  encryptMessage,
  parseFraming,
  selfUpdate,
  type InboxId,
} from "@parley/mls";
import { messageContents } from "@parley/proto";

export interface MlsSamples {
  readonly inboxId: InboxId;
  readonly groupId: Uint8Array;
  /** A TLS-serialized key package, with its installation key. */
  readonly keyPackage: Uint8Array;
  readonly installationKey: Uint8Array;
  /** PrivateMessages of the group: application messages, then a commit. */
  readonly applicationMessages: readonly Uint8Array[];
  readonly commit: Uint8Array;
}

function extensionsFor(creator: string) {
  const bytes = <T extends Parameters<typeof toBinary>[0]>(schema: T, init: Parameters<typeof create<T>>[1]) =>
    toBinary(schema, create(schema, init));
  return {
    immutableMetadata: bytes(messageContents.GroupMetadataV1Schema, {
      conversationType: messageContents.ConversationType.GROUP,
      creatorInboxId: creator,
    }),
    mutableMetadata: bytes(messageContents.GroupMutableMetadataV1Schema, { attributes: { group_name: "samples" } }),
    membership: bytes(messageContents.GroupMembershipSchema, { members: { [creator]: 0n } }),
    permissions: new Uint8Array(0),
  };
}

export async function mlsSamples(messages = 3): Promise<MlsSamples> {
  const inboxId = asInboxId(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"));
  const { signKey } = ed25519Keygen();
  const signer = { inboxId, privateKey: signKey };
  const bundle = await createKeyPackage(signer);
  let state = await createGroup({ signer, extensions: extensionsFor(inboxId), authenticate: () => true });
  const applicationMessages: Uint8Array[] = [];
  for (let i = 0; i < messages; i++) {
    const sent = await encryptMessage(state, new TextEncoder().encode(`sample ${i}`));
    state = sent.state;
    applicationMessages.push(sent.message);
  }
  const update = await selfUpdate(state, () => true);
  const groupId = parseFraming(update.commit).groupId;
  return {
    inboxId,
    groupId,
    keyPackage: bundle.keyPackage,
    installationKey: bundle.installationKey,
    applicationMessages,
    commit: update.commit,
  };
}
