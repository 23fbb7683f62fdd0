// The authentication service (RFC 9420 5.3.1), as XMTP needs it: the caller
// decides whether a leaf's (inbox id, installation key) pair belongs together
// in the inbox's association state. ts-mls calls this for every leaf it
// accepts: added key packages, Update and commit-path leaves, and every leaf
// of a tree received in a Welcome.
import type { AuthenticationService } from "ts-mls";
import { inboxIdOfCredential, installationKeyOfLeaf, type InboxId, type InstallationKey } from "./xmtp/credential.js";

export interface MemberIdentity {
  readonly inboxId: InboxId;
  readonly installationKey: InstallationKey;
}

/**
 * Answers whether `member.installationKey` is a valid installation of
 * `member.inboxId`. Supplied by the caller (the client, from identity state).
 */
export type AuthenticateMember = (member: MemberIdentity) => boolean | Promise<boolean>;

/** A ts-mls AuthenticationService that remembers whether it refused anyone. */
export interface TrackingAuthService extends AuthenticationService {
  readonly refused: boolean;
}

export function createAuthService(authenticate: AuthenticateMember): TrackingAuthService {
  let refused = false;
  return {
    get refused() {
      return refused;
    },
    async validateCredential(credential, signaturePublicKey) {
      let member: MemberIdentity;
      try {
        member = {
          inboxId: inboxIdOfCredential(credential),
          installationKey: installationKeyOfLeaf(signaturePublicKey),
        };
      } catch {
        refused = true;
        return false;
      }
      const ok = await authenticate(member);
      if (!ok) refused = true;
      return ok;
    },
  };
}
