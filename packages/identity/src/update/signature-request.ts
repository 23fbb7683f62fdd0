// Building and signing identity updates (../shared/spec/xmtp-node-api.md
// section 3.3, xmtp-client.md section 6): the actions, the one text they
// all sign, a slot per required signer, and the IdentityUpdate message once
// every slot is filled. Like libxmtp's SignatureRequest, one signature by a
// signer fills all of that signer's slots.
import { create } from "@bufbuild/protobuf";
import { associations, encode } from "@parley/proto";
import { IdentityError } from "../identity-error.js";
import { fromHex, installationKeyBytes, installationIdFromKey, type InboxId } from "../ids.js";
import {
  installationMember,
  memberKey,
  sameMember,
  type Identifier,
  type MemberIdentifier,
} from "../member.js";
import { recoverPersonalSigner } from "../crypto/ethereum.js";
import { installationPublicKey, signWithInstallationKey } from "../crypto/installation-key.js";
import { signatureText, type UnsignedAction } from "./signature-text.js";
import { signerIdentifier, type Signer } from "./signer.js";

/** An action to sign, with who must sign it besides the member it names. */
export type ActionRequest =
  | { readonly type: "createInbox"; readonly identifier: Identifier; readonly nonce: bigint }
  | { readonly type: "addAssociation"; readonly newMember: MemberIdentifier; readonly existingMember: MemberIdentifier }
  | { readonly type: "revokeAssociation"; readonly member: MemberIdentifier; readonly recoveryIdentifier: Identifier }
  | {
      readonly type: "changeRecoveryAddress";
      readonly newRecoveryIdentifier: Identifier;
      readonly recoveryIdentifier: Identifier;
    };

export interface SignatureRequestInit {
  readonly inboxId: InboxId;
  /** The caller's clock: this package reads none. */
  readonly clientTimestampNs: bigint;
  readonly actions: readonly ActionRequest[];
}

export interface SignatureRequest {
  readonly inboxId: InboxId;
  readonly clientTimestampNs: bigint;
  /** What every signer signs. */
  readonly text: string;
  /** Signers whose signature is still missing. */
  missingSigners(): MemberIdentifier[];
  /** Adds a signature made elsewhere (a smart wallet, a passkey) for `signer`. */
  addSignature(signer: MemberIdentifier, signature: associations.Signature): void;
  /** Has an official-shaped signer sign the text (EOA: ERC-191; SCW: ERC-6492). */
  signWith(signer: Signer): Promise<void>;
  /** Signs with an installation's Ed25519 secret key. */
  signWithInstallationKey(secretKey: Uint8Array): void;
  /** @throws IdentityError `identity.bad_request` while a signature is missing */
  toProto(): associations.IdentityUpdate;
  /** {@link toProto}, encoded. */
  toBytes(): Uint8Array;
}

function unsigned(action: ActionRequest): UnsignedAction {
  switch (action.type) {
    case "createInbox":
      return { type: "createInbox", identifier: action.identifier, nonce: action.nonce };
    case "addAssociation":
      return { type: "addAssociation", newMember: action.newMember };
    case "revokeAssociation":
      return { type: "revokeAssociation", member: action.member };
    case "changeRecoveryAddress":
      return { type: "changeRecoveryAddress", newRecoveryIdentifier: action.newRecoveryIdentifier };
  }
}

function requiredSigners(action: ActionRequest): MemberIdentifier[] {
  switch (action.type) {
    case "createInbox":
      return [action.identifier];
    case "addAssociation":
      return [action.existingMember, action.newMember];
    case "revokeAssociation":
    case "changeRecoveryAddress":
      return [action.recoveryIdentifier];
  }
}

/**
 * Starts a request to sign `init.actions`.
 *
 * @throws IdentityError `identity.bad_request` for a request with no actions
 */
export function createSignatureRequest(init: SignatureRequestInit): SignatureRequest {
  if (init.actions.length === 0) throw new IdentityError("identity.bad_request", "no actions to sign");
  const text = signatureText({ ...init, actions: init.actions.map(unsigned) });
  const required = new Map<string, MemberIdentifier>();
  for (const action of init.actions) for (const s of requiredSigners(action)) required.set(memberKey(s), s);
  const signatures = new Map<string, associations.Signature>();

  const addSignature = (signer: MemberIdentifier, signature: associations.Signature) => {
    if (!required.has(memberKey(signer))) {
      throw new IdentityError("identity.bad_request", "a signature from a signer the request does not need");
    }
    signatures.set(memberKey(signer), signature);
  };
  const signatureOf = (signer: MemberIdentifier) => {
    const found = signatures.get(memberKey(signer));
    if (found === undefined) throw new IdentityError("identity.bad_request", "a required signature is missing");
    return found;
  };

  const toProto = (): associations.IdentityUpdate =>
    create(associations.IdentityUpdateSchema, {
      inboxId: init.inboxId,
      clientTimestampNs: init.clientTimestampNs,
      actions: init.actions.map((action) => create(associations.IdentityActionSchema, { kind: actionKind(action, signatureOf) })),
    });

  return {
    inboxId: init.inboxId,
    clientTimestampNs: init.clientTimestampNs,
    text,
    missingSigners: () => [...required].filter(([key]) => !signatures.has(key)).map(([, s]) => s),
    addSignature,
    async signWith(signer) {
      const identifier = await signerIdentifier(signer);
      const bytes = await signer.signMessage(text);
      if (signer.type === "SCW") {
        if (identifier.kind !== "ethereum") throw new IdentityError("identity.bad_request", "a smart wallet is an address");
        const blockNumber = signer.getBlockNumber?.() ?? 0n;
        const accountId = `eip155:${signer.getChainId()}:${identifier.address}`;
        addSignature(identifier, signatureMessage({ case: "erc6492", value: { accountId, blockNumber, signature: bytes } }));
        return;
      }
      // Caught here rather than by the node: a wallet that signs as another address.
      if (identifier.kind !== "ethereum" || recoverPersonalSigner(text, bytes).address !== identifier.address) {
        throw new IdentityError("identity.bad_request", "the wallet's signature is not by its own address");
      }
      addSignature(identifier, signatureMessage({ case: "erc191", value: { bytes } }));
    },
    signWithInstallationKey(secretKey) {
      const publicKey = installationPublicKey(secretKey);
      const signer = installationMember(installationIdFromKey(publicKey));
      const bytes = signWithInstallationKey(text, secretKey);
      addSignature(signer, signatureMessage({ case: "installationKey", value: { bytes, publicKey } }));
    },
    toProto,
    toBytes: () => encode(associations.IdentityUpdateSchema, toProto()),
  };
}

type SignatureInit =
  | { case: "erc191"; value: { bytes: Uint8Array } }
  | { case: "erc6492"; value: { accountId: string; blockNumber: bigint; signature: Uint8Array } }
  | { case: "installationKey"; value: { bytes: Uint8Array; publicKey: Uint8Array } };

function signatureMessage(init: SignatureInit): associations.Signature {
  switch (init.case) {
    case "erc191":
      return create(associations.SignatureSchema, {
        signature: { case: "erc191", value: create(associations.RecoverableEcdsaSignatureSchema, init.value) },
      });
    case "erc6492":
      return create(associations.SignatureSchema, {
        signature: { case: "erc6492", value: create(associations.SmartContractWalletSignatureSchema, init.value) },
      });
    case "installationKey":
      return create(associations.SignatureSchema, {
        signature: { case: "installationKey", value: create(associations.RecoverableEd25519SignatureSchema, init.value) },
      });
  }
}

/** The wire form of an identifier: proto kind and string. */
function identifierFields(identifier: Identifier) {
  return identifier.kind === "ethereum"
    ? { value: identifier.address, kind: associations.IdentifierKind.ETHEREUM, relyingParty: undefined }
    : { value: identifier.key, kind: associations.IdentifierKind.PASSKEY, relyingParty: identifier.relyingParty };
}

export function memberIdentifierMessage(member: MemberIdentifier): associations.MemberIdentifier {
  switch (member.kind) {
    case "ethereum":
      return create(associations.MemberIdentifierSchema, { kind: { case: "ethereumAddress", value: member.address } });
    case "installation":
      return create(associations.MemberIdentifierSchema, {
        kind: { case: "installationPublicKey", value: installationKeyBytes(member.key) },
      });
    case "passkey":
      return create(associations.MemberIdentifierSchema, {
        kind: {
          case: "passkey",
          value: create(associations.PasskeySchema, {
            key: fromHex(member.key),
            ...(member.relyingParty === undefined ? {} : { relyingParty: member.relyingParty }),
          }),
        },
      });
  }
}

function actionKind(
  action: ActionRequest,
  signatureOf: (signer: MemberIdentifier) => associations.Signature,
): associations.IdentityAction["kind"] {
  switch (action.type) {
    case "createInbox": {
      const id = identifierFields(action.identifier);
      return {
        case: "createInbox",
        value: create(associations.CreateInboxSchema, {
          initialIdentifier: id.value,
          initialIdentifierKind: id.kind,
          nonce: action.nonce,
          initialIdentifierSignature: signatureOf(action.identifier),
          ...(id.relyingParty === undefined ? {} : { relyingParty: id.relyingParty }),
        }),
      };
    }
    case "addAssociation":
      if (sameMember(action.existingMember, action.newMember)) {
        throw new IdentityError("identity.bad_request", "a member can't add itself");
      }
      return {
        case: "add",
        value: create(associations.AddAssociationSchema, {
          newMemberIdentifier: memberIdentifierMessage(action.newMember),
          existingMemberSignature: signatureOf(action.existingMember),
          newMemberSignature: signatureOf(action.newMember),
        }),
      };
    case "revokeAssociation":
      return {
        case: "revoke",
        value: create(associations.RevokeAssociationSchema, {
          memberToRevoke: memberIdentifierMessage(action.member),
          recoveryIdentifierSignature: signatureOf(action.recoveryIdentifier),
        }),
      };
    case "changeRecoveryAddress": {
      const id = identifierFields(action.newRecoveryIdentifier);
      return {
        case: "changeRecoveryAddress",
        value: create(associations.ChangeRecoveryAddressSchema, {
          newRecoveryIdentifier: id.value,
          newRecoveryIdentifierKind: id.kind,
          existingRecoveryIdentifierSignature: signatureOf(action.recoveryIdentifier),
          ...(id.relyingParty === undefined ? {} : { relyingParty: id.relyingParty }),
        }),
      };
    }
  }
}
