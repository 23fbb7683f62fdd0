// The signer shape of the official SDK (@xmtp/node-sdk 5.5.0, `Signer`;
// ../shared/spec/official-sdk.md): `type`, `getIdentifier`, `signMessage`,
// and for smart wallets `getChainId` / `getBlockNumber`. A wallet written
// for one works with the other.
import { IdentityError } from "../identity-error.js";
import { toEthereumAddress } from "../ids.js";
import { ethereumMember, passkeyMember, type Identifier } from "../member.js";
import { addressOfSecretKey, signPersonalMessage } from "../crypto/ethereum.js";

/** The official bindings' numbering (not the proto enum's): Ethereum 0, Passkey 1. */
export const IdentifierKind = { Ethereum: 0, Passkey: 1 } as const;
export type IdentifierKind = (typeof IdentifierKind)[keyof typeof IdentifierKind];

export interface SignerIdentifier {
  identifier: string;
  identifierKind: IdentifierKind;
}

type SignMessage = (message: string) => Promise<Uint8Array> | Uint8Array;
type GetIdentifier = () => Promise<SignerIdentifier> | SignerIdentifier;

export type EOASigner = { type: "EOA"; signMessage: SignMessage; getIdentifier: GetIdentifier };
export type SCWSigner = {
  type: "SCW";
  signMessage: SignMessage;
  getIdentifier: GetIdentifier;
  getBlockNumber?: () => bigint;
  getChainId: () => bigint;
};
export type Signer = EOASigner | SCWSigner;

/**
 * The identifier a signer stands for, in canonical form.
 *
 * @throws IdentityError `identity.invalid_identifier`
 */
export async function signerIdentifier(signer: Signer): Promise<Identifier> {
  const { identifier, identifierKind } = await signer.getIdentifier();
  if (identifierKind === IdentifierKind.Passkey) {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(identifier)) {
      throw new IdentityError("identity.invalid_identifier", "passkey identifier is not hex");
    }
    return passkeyMember(identifier.toLowerCase());
  }
  return ethereumMember(toEthereumAddress(identifier));
}

/**
 * An EOA signer over a secp256k1 secret key (EIP-191 personal_sign). The key
 * stays in the closure; nothing here prints it.
 */
export function createPrivateKeySigner(secretKey: Uint8Array): EOASigner {
  const key = secretKey.slice();
  const identifier = addressOfSecretKey(key);
  return {
    type: "EOA",
    getIdentifier: () => ({ identifier, identifierKind: IdentifierKind.Ethereum }),
    signMessage: (message) => signPersonalMessage(message, key),
  };
}
