// Signature verification of an identity update (../shared/spec/xmtp-node-api.md
// section 3.3; libxmtp verified_signature.rs): every signature is checked
// against the one text of the update and replaced by the member who signed.
import { IdentityError } from "../identity-error.js";
import { installationIdFromKey, isEthereumAddress, toHex, type EthereumAddress } from "../ids.js";
import { ethereumMember, installationMember, passkeyMember, type Identifier, type MemberIdentifier } from "../member.js";
import { personalMessageHash, recoverPersonalSigner } from "../crypto/ethereum.js";
import { verifyInstallationSignature } from "../crypto/installation-key.js";
import { passkeyReplayBytes } from "../crypto/passkey.js";
import { signatureText } from "./signature-text.js";
import type { UnverifiedIdentityUpdate, UnverifiedSignature } from "./unverified-identity-update.js";
import { checkSignatureCount } from "./update-caps.js";
import type { Verifiers } from "./verifiers.js";

/** libxmtp's names: erc191 (EOA), erc1271 (smart wallet), installationKey, p256 (passkey). */
export type SignatureKind = "erc191" | "erc1271" | "installationKey" | "p256";

export interface VerifiedSignature {
  readonly signer: MemberIdentifier;
  readonly kind: SignatureKind;
  /** The bytes recorded against replay. */
  readonly replayBytes: Uint8Array;
  /** For smart wallets, the chain the signature was checked on. */
  readonly chainId?: bigint;
}

export type VerifiedAction =
  | {
      readonly type: "createInbox";
      readonly identifier: Identifier;
      readonly nonce: bigint;
      readonly initialIdentifierSignature: VerifiedSignature;
    }
  | {
      readonly type: "addAssociation";
      readonly newMember: MemberIdentifier;
      readonly existingMemberSignature: VerifiedSignature;
      readonly newMemberSignature: VerifiedSignature;
    }
  | {
      readonly type: "revokeAssociation";
      readonly member: MemberIdentifier;
      readonly recoveryIdentifierSignature: VerifiedSignature;
    }
  | {
      readonly type: "changeRecoveryAddress";
      readonly newRecoveryIdentifier: Identifier;
      readonly recoveryIdentifierSignature: VerifiedSignature;
    };

declare const verified: unique symbol;

/**
 * An update whose signatures all verified; the association rules are still
 * to apply. Only {@link verifyIdentityUpdate} makes one: the brand has no
 * runtime value, so a hand-built object needs a cast that shows in review.
 */
export interface VerifiedIdentityUpdate {
  readonly inboxId: string;
  readonly clientTimestampNs: bigint;
  readonly actions: readonly VerifiedAction[];
  readonly [verified]: true;
}

export interface VerifyOptions {
  readonly verifiers?: Verifiers;
}

/**
 * Verifies every signature of `update` over its signature text. A wallet
 * usually signs once for several actions; each distinct signature is
 * checked once.
 *
 * @throws IdentityError `identity.bad_signature`, `identity.unsupported_signature`,
 *   `identity.verifier_unavailable`, `identity.too_large` (checked before any signature)
 */
export async function verifyIdentityUpdate(
  update: UnverifiedIdentityUpdate,
  options: VerifyOptions = {},
): Promise<VerifiedIdentityUpdate> {
  checkSignatureCount(distinctSignatures(update));
  const text = signatureText(update);
  const cache = new Map<UnverifiedSignature, Promise<VerifiedSignature>>();
  const byBytes = new Map<string, Promise<VerifiedSignature>>();
  const verify = (signature: UnverifiedSignature): Promise<VerifiedSignature> => {
    let found = cache.get(signature);
    if (found === undefined) {
      const key = signatureCacheKey(signature);
      found = key === undefined ? undefined : byBytes.get(key);
      if (found === undefined) {
        found = verifySignature(signature, text, options);
        if (key !== undefined) byBytes.set(key, found);
      }
      cache.set(signature, found);
    }
    return found;
  };
  const actions = await Promise.all(
    update.actions.map(async (action): Promise<VerifiedAction> => {
      switch (action.type) {
        case "createInbox":
          return { ...action, initialIdentifierSignature: await verify(action.initialIdentifierSignature) };
        case "addAssociation":
          return {
            ...action,
            existingMemberSignature: await verify(action.existingMemberSignature),
            newMemberSignature: await verify(action.newMemberSignature),
          };
        case "revokeAssociation":
        case "changeRecoveryAddress":
          return { ...action, recoveryIdentifierSignature: await verify(action.recoveryIdentifierSignature) };
      }
    }),
  );
  const checked: Omit<VerifiedIdentityUpdate, typeof verified> = {
    inboxId: update.inboxId,
    clientTimestampNs: update.clientTimestampNs,
    actions,
  };
  return checked as VerifiedIdentityUpdate;
}

/** An action, verified or not, by where its signatures are. */
type SignedAction<Signature> =
  | { readonly type: "createInbox"; readonly initialIdentifierSignature: Signature }
  | { readonly type: "addAssociation"; readonly existingMemberSignature: Signature; readonly newMemberSignature: Signature }
  | { readonly type: "revokeAssociation" | "changeRecoveryAddress"; readonly recoveryIdentifierSignature: Signature };

/** The signatures an action carries, verified or not. */
export function signaturesOf<Signature>(action: SignedAction<Signature>): Signature[] {
  switch (action.type) {
    case "createInbox":
      return [action.initialIdentifierSignature];
    case "addAssociation":
      return [action.existingMemberSignature, action.newMemberSignature];
    case "revokeAssociation":
    case "changeRecoveryAddress":
      return [action.recoveryIdentifierSignature];
  }
}

/** The signatures verify would check: one per distinct key, each unkeyed one apart. */
function distinctSignatures(update: UnverifiedIdentityUpdate): number {
  const distinct = new Set<UnverifiedSignature | string>();
  for (const action of update.actions) {
    for (const signature of signaturesOf(action)) distinct.add(signatureCacheKey(signature) ?? signature);
  }
  return distinct.size;
}

function signatureCacheKey(signature: UnverifiedSignature): string | undefined {
  switch (signature.kind) {
    case "erc191":
      return `erc191:${toHex(signature.bytes)}`;
    case "installationKey":
      return `ed25519:${toHex(signature.publicKey)}:${toHex(signature.bytes)}`;
    default:
      return undefined;
  }
}

/**
 * Verifies one signature over `text` and names its signer.
 *
 * @throws IdentityError as {@link verifyIdentityUpdate}
 */
export async function verifySignature(
  signature: UnverifiedSignature,
  text: string,
  options: VerifyOptions = {},
): Promise<VerifiedSignature> {
  switch (signature.kind) {
    case "erc191": {
      const { address, normalized } = recoverPersonalSigner(text, signature.bytes);
      return { signer: ethereumMember(address), kind: "erc191", replayBytes: normalized };
    }
    case "installationKey":
      verifyInstallationSignature(text, signature.bytes, signature.publicKey);
      return {
        signer: installationMember(installationIdFromKey(signature.publicKey)),
        kind: "installationKey",
        replayBytes: signature.bytes,
      };
    case "erc6492":
      return verifySmartContractWallet(signature, text, options);
    case "passkey":
      return verifyPasskey(signature, text, options);
    case "legacyDelegated":
      // V2-to-V3 migration signatures: no client of this project writes them.
      throw new IdentityError("identity.unsupported_signature", "legacy delegated signatures are not supported");
  }
}

async function verifySmartContractWallet(
  signature: Extract<UnverifiedSignature, { kind: "erc6492" }>,
  text: string,
  options: VerifyOptions,
): Promise<VerifiedSignature> {
  const verifier = options.verifiers?.smartContractWallet;
  if (verifier === undefined) {
    throw new IdentityError("identity.unsupported_signature", "no smart-contract-wallet verifier configured");
  }
  const { chainId, address } = parseAccountId(signature.accountId);
  let isValid: boolean;
  try {
    ({ isValid } = await verifier.verify({
      accountId: signature.accountId,
      chainId,
      address,
      blockNumber: signature.blockNumber,
      hash: personalMessageHash(text),
      signature: signature.signature,
    }));
  } catch (cause) {
    throw new IdentityError("identity.verifier_unavailable", "smart-contract-wallet verifier failed", { cause });
  }
  if (!isValid) throw new IdentityError("identity.bad_signature", "smart-contract-wallet signature is invalid");
  return { signer: ethereumMember(address), kind: "erc1271", replayBytes: signature.signature, chainId };
}

/** CAIP-10 `eip155:<chain>:<address>`; libxmtp lowercases the address. */
function parseAccountId(accountId: string): { chainId: bigint; address: EthereumAddress } {
  const match = /^eip155:([0-9]{1,20}):(0x[0-9a-fA-F]{40})$/.exec(accountId);
  const address = match?.[2]?.toLowerCase();
  const chainId = match?.[1] === undefined ? undefined : BigInt(match[1]);
  if (address === undefined || chainId === undefined || chainId >= 2n ** 64n || !isEthereumAddress(address)) {
    throw new IdentityError("identity.malformed", "account id is not CAIP-10 eip155:<chain>:<address>");
  }
  return { chainId, address };
}

async function verifyPasskey(
  signature: Extract<UnverifiedSignature, { kind: "passkey" }>,
  text: string,
  options: VerifyOptions,
): Promise<VerifiedSignature> {
  const verifier = options.verifiers?.passkey;
  if (verifier === undefined) {
    throw new IdentityError("identity.unsupported_signature", "no passkey verifier configured");
  }
  let result: { readonly isValid: boolean; readonly relyingParty?: string };
  try {
    result = await verifier.verify({ text, ...signature });
  } catch (cause) {
    throw new IdentityError("identity.verifier_unavailable", "passkey verifier failed", { cause });
  }
  if (!result.isValid) throw new IdentityError("identity.bad_signature", "passkey signature is invalid");
  return {
    signer: passkeyMember(toHex(signature.publicKey), result.relyingParty),
    kind: "p256",
    replayBytes: passkeyReplayBytes(signature.signature),
  };
}
