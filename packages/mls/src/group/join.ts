// Joining from a Welcome (RFC 9420 12.4.3.1) as libxmtp does
// (xmtp-client.md 2.5): the ratchet tree comes from the GroupInfo's
// ratchet_tree extension, every leaf passes the caller's authentication
// check, PSKs are refused, and the group must carry XMTP's extensions.
import type { Welcome } from "ts-mls";
import { joinGroup, makeKeyPackageRef, mlsMessageDecoder, wireformats } from "../engine/ts-mls.js";
import { nodeCiphersuite } from "../crypto/provider.js";
import { refusedMemberError, type AuthenticateMember } from "../authentication.js";
import { decodeExactly } from "../codec.js";
import { guard } from "../engine-errors.js";
import { decodeKeyPackage, decodePrivateKeyPackage } from "../key-package.js";
import { MlsError } from "../mls-error.js";
import { readGroupExtensions } from "../xmtp/group-extensions.js";
import { CIPHERSUITE } from "../xmtp/profile.js";
import { engineContext, groupMembers, wrapState, type GroupMember, type GroupState } from "./group-state.js";
import { welcomeSignerLeaf } from "./welcome-signer.js";

export interface JoinParams {
  /** The MLSMessage Welcome (after unwrapping). */
  readonly welcome: Uint8Array;
  /** Our key package the Welcome was made for, and its private half. */
  readonly keyPackage: Uint8Array;
  readonly privateKeyPackage: Uint8Array;
  readonly authenticate: AuthenticateMember;
}

/** @throws MlsError `mls.malformed` for bytes that are not an MLSMessage Welcome. */
export function decodeWelcome(bytes: Uint8Array): Welcome {
  const message = decodeExactly(mlsMessageDecoder, bytes, "Welcome");
  if (message.wireformat !== wireformats.mls_welcome || !("welcome" in message)) {
    throw new MlsError("mls.unexpected_wire_format", "Welcome: MLSMessage is not a Welcome");
  }
  return message.welcome;
}

/**
 * @throws MlsError `mls.malformed`, `mls.unsupported_ciphersuite`,
 *   `mls.no_matching_key_package`, `mls.decrypt_failed`, `mls.bad_signature`,
 *   `mls.invalid` (tree, PSKs, missing XMTP extensions),
 *   `mls.unauthenticated_member`, `mls.expired_key_package`.
 */
export interface JoinResult {
  readonly state: GroupState;
  /** The member whose commit added us (the GroupInfo's signer): libxmtp's `added_by`. */
  readonly addedBy: GroupMember | undefined;
}

export async function joinFromWelcome(params: JoinParams): Promise<JoinResult> {
  const welcome = decodeWelcome(params.welcome);
  if (welcome.cipherSuite !== CIPHERSUITE) throw new MlsError("mls.unsupported_ciphersuite", "Welcome: not ciphersuite 3");
  const keyPackage = decodeKeyPackage(params.keyPackage);
  const privateKeys = decodePrivateKeyPackage(params.privateKeyPackage);
  const ref = await makeKeyPackageRef(keyPackage, nodeCiphersuite().hash);
  if (!welcome.secrets.some((s) => s.newMember.length === ref.length && s.newMember.every((b, i) => b === ref[i]))) {
    throw new MlsError("mls.no_matching_key_package", "joinFromWelcome: the Welcome has no secrets for our key package");
  }
  const { context, auth } = engineContext(params.authenticate, { checkReceivedLifetimes: false });
  const engine = await guard("joinFromWelcome", "mls.invalid", async () => {
    try {
      return await joinGroup({ context, welcome, keyPackage, privateKeys });
    } catch (error) {
      const refused = refusedMemberError(auth, "joinFromWelcome", error);
      if (refused !== undefined) throw refused;
      throw error;
    }
  });
  // A group without XMTP's extensions is not an XMTP group.
  readGroupExtensions(engine.groupContext.extensions);
  const state = wrapState(engine);
  const signer = welcomeSignerLeaf(welcome, ref, privateKeys.initPrivateKey);
  return { state, addedBy: groupMembers(state).find((m) => m.leafIndex === signer) };
}
