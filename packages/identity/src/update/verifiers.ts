// Verifiers a deployment plugs in for the signatures this package can't
// check alone (../shared/spec/xmtp-node-api.md section 3.3): smart-contract
// wallets (ERC-1271 / ERC-6492, which need a chain RPC) and passkeys
// (WebAuthn). With none plugged in, such a signature is refused with
// `identity.unsupported_signature`.
import type { EthereumAddress } from "../ids.js";

export interface SmartContractWalletRequest {
  /** CAIP-10, as in the signature: `eip155:<chain id>:<address>`. */
  readonly accountId: string;
  readonly chainId: bigint;
  readonly address: EthereumAddress;
  /** The block the signer named; 0 for latest. */
  readonly blockNumber: bigint;
  /** The 32-byte EIP-191 hash of the signature text, what `isValidSignature` is asked about. */
  readonly hash: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SmartContractWalletVerifier {
  /** Resolves whether the wallet contract accepts the signature; rejects when it can't tell (RPC down). */
  verify(request: SmartContractWalletRequest): Promise<{ readonly isValid: boolean }>;
}

export interface PasskeyRequest {
  /** The signature text; WebAuthn's challenge must be its base64url, unpadded. */
  readonly text: string;
  /** SEC1 P-256 public key. */
  readonly publicKey: Uint8Array;
  /** DER ECDSA signature over authenticatorData ‖ SHA-256(clientDataJSON). */
  readonly signature: Uint8Array;
  readonly authenticatorData: Uint8Array;
  readonly clientDataJson: Uint8Array;
}

export interface PasskeyVerifier {
  /**
   * Resolves whether the passkey signed the text and, if so, the relying
   * party (clientData's origin) to record on the member.
   */
  verify(request: PasskeyRequest): Promise<{ readonly isValid: boolean; readonly relyingParty?: string }>;
}

export interface Verifiers {
  readonly smartContractWallet?: SmartContractWalletVerifier;
  readonly passkey?: PasskeyVerifier;
}
