// Test helpers: wallets and installations with throwaway keys, and signed
// identity updates built through the public builder. Deterministic keys, so
// that a failing case can be rerun.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { installationIdFromKey, type InboxId } from "./ids.js";
import { deriveInboxId } from "./inbox-id.js";
import { ethereumMember, installationMember, type EthereumMember, type InstallationMember } from "./member.js";
import { addressOfSecretKey } from "./crypto/ethereum.js";
import { installationPublicKey } from "./crypto/installation-key.js";
import { createSignatureRequest, type ActionRequest, type SignatureRequest } from "./update/signature-request.js";
import { createPrivateKeySigner, type EOASigner } from "./update/signer.js";

export interface TestWallet {
  readonly secretKey: Uint8Array;
  readonly member: EthereumMember;
  readonly signer: EOASigner;
}

export interface TestInstallation {
  readonly secretKey: Uint8Array;
  readonly member: InstallationMember;
}

function seeded(label: string): Uint8Array {
  return sha256(utf8ToBytes(label));
}

export function testWallet(label: string): TestWallet {
  let secretKey = seeded(`wallet ${label}`);
  if (!secp256k1.utils.isValidSecretKey(secretKey)) secretKey = seeded(`wallet ${label}!`);
  return {
    secretKey,
    member: ethereumMember(addressOfSecretKey(secretKey)),
    signer: createPrivateKeySigner(secretKey),
  };
}

export function testInstallation(label: string): TestInstallation {
  const secretKey = seeded(`installation ${label}`);
  return { secretKey, member: installationMember(installationIdFromKey(installationPublicKey(secretKey))) };
}

export type TestSigner = TestWallet | TestInstallation;

/** Builds an update and signs it with every signer given (wallets and installations alike). */
export async function signedUpdate(
  inboxId: InboxId,
  actions: readonly ActionRequest[],
  signers: readonly TestSigner[],
  clientTimestampNs = 1_700_000_000_000_000_000n,
): Promise<SignatureRequest> {
  const request = createSignatureRequest({ inboxId, clientTimestampNs, actions });
  for (const signer of signers) {
    if ("signer" in signer) await request.signWith(signer.signer);
    else request.signWithInstallationKey(signer.secretKey);
  }
  return request;
}

/** The usual first update: CreateInbox by `wallet` and its first installation. */
export async function registration(
  wallet: TestWallet,
  installation: TestInstallation,
  nonce = 0n,
): Promise<{ inboxId: InboxId; bytes: Uint8Array }> {
  const inboxId = deriveInboxId(wallet.member, nonce);
  const request = await signedUpdate(
    inboxId,
    [
      { type: "createInbox", identifier: wallet.member, nonce },
      { type: "addAssociation", newMember: installation.member, existingMember: wallet.member },
    ],
    [wallet, installation],
  );
  return { inboxId, bytes: request.toBytes() };
}
