// Members of an inbox (../shared/spec/xmtp-node-api.md section 3.1):
// wallets, installations and passkeys, and the public identifiers (wallet
// or passkey) that can own an inbox or recover it.
import type { EthereumAddress, InstallationId } from "./ids.js";

export type EthereumMember = { readonly kind: "ethereum"; readonly address: EthereumAddress };
/** `key` is the installation id: the hex of its Ed25519 public key. */
export type InstallationMember = { readonly kind: "installation"; readonly key: InstallationId };
/**
 * A WebAuthn passkey; `key` is the lowercase hex of its SEC1 public key.
 * Two passkeys are the same member when their keys are equal, whatever the
 * relying party (as in libxmtp).
 */
export type PasskeyMember = {
  readonly kind: "passkey";
  readonly key: string;
  readonly relyingParty?: string;
};

export type MemberIdentifier = EthereumMember | InstallationMember | PasskeyMember;
/** An identifier that can own or recover an inbox: anything but an installation. */
export type Identifier = EthereumMember | PasskeyMember;
export type MemberKind = MemberIdentifier["kind"];

export function ethereumMember(address: EthereumAddress): EthereumMember {
  return { kind: "ethereum", address };
}

export function installationMember(key: InstallationId): InstallationMember {
  return { kind: "installation", key };
}

export function passkeyMember(key: string, relyingParty?: string): PasskeyMember {
  return relyingParty === undefined ? { kind: "passkey", key } : { kind: "passkey", key, relyingParty };
}

/** The text libxmtp prints for a member: in signature texts and inbox-id hashing. */
export function memberText(member: MemberIdentifier): string {
  switch (member.kind) {
    case "ethereum":
      return member.address;
    case "installation":
    case "passkey":
      return member.key;
  }
}

/** A string that is equal for two identifiers exactly when they are the same member. */
export function memberKey(member: MemberIdentifier): string {
  return `${member.kind}:${memberText(member)}`;
}

export function sameMember(a: MemberIdentifier, b: MemberIdentifier): boolean {
  return memberKey(a) === memberKey(b);
}
