// Identity updates as they arrive: decoded from protobuf
// (xmtp.identity.associations, ../shared/spec/xmtp-node-api.md section 3.1)
// into types that say they are unchecked. Shapes are checked here
// (identifier forms, key lengths, a known action); signatures and the
// association rules are not: only verify and apply produce trusted values.
import { associations, decode, INSTALLATION_KEY_BYTES, type DecodeOptions } from "@parley/proto";
import { IdentityError } from "../identity-error.js";
import { installationIdFromKey, isEthereumAddress, toHex, type EthereumAddress } from "../ids.js";
import { checkActionCount } from "./update-caps.js";
import {
  ethereumMember,
  installationMember,
  passkeyMember,
  type Identifier,
  type MemberIdentifier,
} from "../member.js";

export type UnverifiedSignature =
  | { readonly kind: "erc191"; readonly bytes: Uint8Array }
  | { readonly kind: "installationKey"; readonly bytes: Uint8Array; readonly publicKey: Uint8Array }
  | {
      readonly kind: "erc6492";
      readonly accountId: string;
      readonly blockNumber: bigint;
      readonly signature: Uint8Array;
    }
  | {
      readonly kind: "passkey";
      readonly publicKey: Uint8Array;
      readonly signature: Uint8Array;
      readonly authenticatorData: Uint8Array;
      readonly clientDataJson: Uint8Array;
    }
  | { readonly kind: "legacyDelegated" };

export type UnverifiedAction =
  | {
      readonly type: "createInbox";
      readonly identifier: Identifier;
      readonly nonce: bigint;
      readonly initialIdentifierSignature: UnverifiedSignature;
    }
  | {
      readonly type: "addAssociation";
      readonly newMember: MemberIdentifier;
      readonly existingMemberSignature: UnverifiedSignature;
      readonly newMemberSignature: UnverifiedSignature;
    }
  | {
      readonly type: "revokeAssociation";
      readonly member: MemberIdentifier;
      readonly recoveryIdentifierSignature: UnverifiedSignature;
    }
  | {
      readonly type: "changeRecoveryAddress";
      readonly newRecoveryIdentifier: Identifier;
      readonly recoveryIdentifierSignature: UnverifiedSignature;
    };

/** An identity update whose signatures and rules have not been checked. */
export interface UnverifiedIdentityUpdate {
  readonly inboxId: string;
  readonly clientTimestampNs: bigint;
  readonly actions: readonly UnverifiedAction[];
}

/**
 * Decodes untrusted IdentityUpdate bytes.
 *
 * @throws IdentityError `identity.malformed`, `identity.unknown_action`,
 *   `identity.invalid_identifier`, `identity.too_large`
 */
export function decodeIdentityUpdate(bytes: Uint8Array, options: DecodeOptions = {}): UnverifiedIdentityUpdate {
  let proto: associations.IdentityUpdate;
  try {
    proto = decode(associations.IdentityUpdateSchema, bytes, options);
  } catch (cause) {
    throw new IdentityError("identity.malformed", "IdentityUpdate does not decode", { cause });
  }
  return fromIdentityUpdateProto(proto);
}

/** Checks the shape of an already decoded IdentityUpdate; errors as {@link decodeIdentityUpdate}. */
export function fromIdentityUpdateProto(proto: associations.IdentityUpdate): UnverifiedIdentityUpdate {
  checkActionCount(proto.actions.length);
  return {
    inboxId: proto.inboxId,
    clientTimestampNs: proto.clientTimestampNs,
    actions: proto.actions.map(fromActionProto),
  };
}

function fromActionProto(action: associations.IdentityAction): UnverifiedAction {
  const kind = action.kind;
  switch (kind.case) {
    case "createInbox":
      return {
        type: "createInbox",
        identifier: identifierFromProto(
          kind.value.initialIdentifier,
          kind.value.initialIdentifierKind,
          kind.value.relyingParty,
        ),
        nonce: kind.value.nonce,
        initialIdentifierSignature: signatureFromProto(kind.value.initialIdentifierSignature),
      };
    case "add":
      return {
        type: "addAssociation",
        newMember: memberFromProto(kind.value.newMemberIdentifier),
        existingMemberSignature: signatureFromProto(kind.value.existingMemberSignature),
        newMemberSignature: signatureFromProto(kind.value.newMemberSignature),
      };
    case "revoke":
      return {
        type: "revokeAssociation",
        member: memberFromProto(kind.value.memberToRevoke),
        recoveryIdentifierSignature: signatureFromProto(kind.value.recoveryIdentifierSignature),
      };
    case "changeRecoveryAddress":
      return {
        type: "changeRecoveryAddress",
        newRecoveryIdentifier: identifierFromProto(
          kind.value.newRecoveryIdentifier,
          kind.value.newRecoveryIdentifierKind,
          kind.value.relyingParty,
        ),
        recoveryIdentifierSignature: signatureFromProto(kind.value.existingRecoveryIdentifierSignature),
      };
    case undefined:
      // An action added to the protocol after this code (an unknown field
      // number) decodes to an empty oneof, as does a missing one.
      throw new IdentityError("identity.unknown_action", "IdentityAction of no known kind");
  }
}

function ethereumAddress(value: string): EthereumAddress {
  // Strict where libxmtp is lax: it keeps a mixed-case address as given and
  // fails later when the lowercase recovered signer doesn't match it, except
  // in ChangeRecoveryAddress and RevokeAssociation, where a non-canonical
  // address would be accepted and make the inbox unrecoverable. No honest
  // client writes one.
  if (!isEthereumAddress(value)) {
    throw new IdentityError("identity.invalid_identifier", "Ethereum address not in lowercase 0x form");
  }
  return value;
}

function identifierFromProto(value: string, kind: associations.IdentifierKind, relyingParty?: string): Identifier {
  // libxmtp reads UNSPECIFIED, and any value it doesn't know, as Ethereum.
  if (kind !== associations.IdentifierKind.PASSKEY) return ethereumMember(ethereumAddress(value));
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(value)) {
    throw new IdentityError("identity.invalid_identifier", "passkey identifier is not hex");
  }
  return passkeyMember(value.toLowerCase(), relyingParty);
}

function memberFromProto(member: associations.MemberIdentifier | undefined): MemberIdentifier {
  const kind = member?.kind;
  switch (kind?.case) {
    case "ethereumAddress":
      return ethereumMember(ethereumAddress(kind.value));
    case "installationPublicKey":
      return installationMember(installationIdFromKey(kind.value));
    case "passkey":
      if (kind.value.key.length === 0) throw new IdentityError("identity.invalid_identifier", "empty passkey");
      return passkeyMember(toHex(kind.value.key), kind.value.relyingParty);
    case undefined:
      throw new IdentityError("identity.malformed", "MemberIdentifier missing or of no known kind");
  }
}

function signatureFromProto(signature: associations.Signature | undefined): UnverifiedSignature {
  const inner = signature?.signature;
  switch (inner?.case) {
    case "erc191":
      return { kind: "erc191", bytes: inner.value.bytes };
    case "installationKey":
      if (inner.value.publicKey.length !== INSTALLATION_KEY_BYTES) {
        throw new IdentityError("identity.malformed", "installation signature key is not 32 bytes");
      }
      return { kind: "installationKey", bytes: inner.value.bytes, publicKey: inner.value.publicKey };
    case "erc6492":
      return {
        kind: "erc6492",
        accountId: inner.value.accountId,
        blockNumber: inner.value.blockNumber,
        signature: inner.value.signature,
      };
    case "passkey":
      return {
        kind: "passkey",
        publicKey: inner.value.publicKey,
        signature: inner.value.signature,
        authenticatorData: inner.value.authenticatorData,
        clientDataJson: inner.value.clientDataJson,
      };
    case "delegatedErc191":
      return { kind: "legacyDelegated" };
    case undefined:
      throw new IdentityError("identity.malformed", "Signature missing or of no known kind");
  }
}
