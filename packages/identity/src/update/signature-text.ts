// The one text every signature of an identity update signs
// (../shared/spec/xmtp-node-api.md section 3.3; libxmtp
// unsigned_actions.rs): header, inbox id, time, one two-line block per action
// joined by a single "\n" (not the "\n\n\n" association.proto's comment
// claims), footer. Byte-for-byte: a wallet signs this text.
import { memberText, type Identifier, type MemberIdentifier } from "../member.js";

export type UnsignedAction =
  | { readonly type: "createInbox"; readonly identifier: Identifier; readonly nonce: bigint }
  | { readonly type: "addAssociation"; readonly newMember: MemberIdentifier }
  | { readonly type: "revokeAssociation"; readonly member: MemberIdentifier }
  | { readonly type: "changeRecoveryAddress"; readonly newRecoveryIdentifier: Identifier };

export interface UnsignedIdentityUpdate {
  readonly inboxId: string;
  readonly clientTimestampNs: bigint;
  readonly actions: readonly UnsignedAction[];
}

const header = "XMTP : Authenticate to inbox";
const footer = "For more info: https://xmtp.org/signatures";

const labels = { ethereum: "Address", installation: "ID", passkey: "Passkey" } as const;
const addPhrases = {
  ethereum: "Link address to inbox",
  installation: "Grant messaging access to app",
  passkey: "Link passkey to inbox",
} as const;
const revokePhrases = {
  ethereum: "Unlink address from inbox",
  installation: "Revoke messaging access from app",
  passkey: "Unlink passkey from inbox",
} as const;

export function actionText(action: UnsignedAction): string {
  switch (action.type) {
    case "createInbox":
      return `- Create inbox\n  (Owner: ${memberText(action.identifier)})`;
    case "addAssociation":
      return `- ${addPhrases[action.newMember.kind]}\n  (${labels[action.newMember.kind]}: ${memberText(action.newMember)})`;
    case "revokeAssociation":
      return `- ${revokePhrases[action.member.kind]}\n  (${labels[action.member.kind]}: ${memberText(action.member)})`;
    case "changeRecoveryAddress":
      // "Address" even for a passkey, as libxmtp writes it.
      return `- Change inbox recovery address\n  (Address: ${memberText(action.newRecoveryIdentifier)})`;
  }
}

/** The text that every signer of `update` signs. */
export function signatureText(update: UnsignedIdentityUpdate): string {
  const actions = update.actions.map(actionText).join("\n");
  return `${header}\n\nInbox ID: ${update.inboxId}\nCurrent time: ${formatTimestamp(update.clientTimestampNs)}\n\n${actions}\n\n${footer}`;
}

/**
 * RFC 3339 in UTC with whole seconds, as chrono's `to_rfc3339_opts(Secs,
 * true)` writes it. libxmtp casts the u64 to i64 first, so values of 2^63
 * and above wrap to dates before 1970; that is reproduced, since the text
 * must match whatever the signer saw. The i64 range spans years 1677-2262,
 * all four-digit.
 */
export function formatTimestamp(clientTimestampNs: bigint): string {
  const ns = BigInt.asIntN(64, clientTimestampNs);
  let seconds = ns / 1_000_000_000n;
  if (ns < 0n && ns % 1_000_000_000n !== 0n) seconds -= 1n; // floor, not truncation
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
