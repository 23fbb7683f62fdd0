// The authentication service (RFC 9420 5.3.1), as XMTP needs it: the caller
// decides whether a leaf's (inbox id, installation key) pair belongs together
// in the inbox's association state. ts-mls calls this for every leaf it
// accepts: added key packages, Update and commit-path leaves, and every leaf
// of a tree received in a Welcome.
import type { AuthenticationService } from "ts-mls";
import { MlsError } from "./mls-error.js";
import { inboxIdOfCredential, installationKeyOfLeaf, type InboxId, type InstallationKey } from "./xmtp/credential.js";
import { MAX_GROUP_INBOXES } from "./xmtp/profile.js";

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
  /** Refused because the leaves named more than MAX_GROUP_INBOXES inboxes. */
  readonly tooManyInboxes: boolean;
}

/**
 * Refuses, without asking `authenticate`, any leaf of an inbox past the
 * first `maxInboxes` distinct ones it was asked about: a tree or a commit
 * naming thousands of inboxes costs at most that many lookups.
 */
export function createAuthService(authenticate: AuthenticateMember, maxInboxes = MAX_GROUP_INBOXES): TrackingAuthService {
  let refused = false;
  let tooManyInboxes = false;
  const inboxes = new Set<string>();
  return {
    get refused() {
      return refused;
    },
    get tooManyInboxes() {
      return tooManyInboxes;
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
      if (!inboxes.has(member.inboxId) && inboxes.size >= maxInboxes) {
        tooManyInboxes = true;
        refused = true;
        return false;
      }
      inboxes.add(member.inboxId);
      const ok = await authenticate(member);
      if (!ok) refused = true;
      return ok;
    },
  };
}

/** The error for an engine failure after the authentication service refused a leaf, if it did. */
export function refusedMemberError(auth: TrackingAuthService, what: string, cause: unknown): MlsError | undefined {
  if (auth.tooManyInboxes) return new MlsError("mls.too_many_members", `${what}: more than ${MAX_GROUP_INBOXES} inboxes`, { cause });
  if (auth.refused) return new MlsError("mls.unauthenticated_member", `${what}: a member was refused`, { cause });
  return undefined;
}
