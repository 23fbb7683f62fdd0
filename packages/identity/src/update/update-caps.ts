// What one identity update may carry. Every signature costs its verifier a
// few milliseconds (an Ethereum signature's public key recovery most), and
// an update's bytes alone do not bound that: a 64 KiB update holds hundreds
// of signatures, each verified before any rule can refuse the update. So
// the count is capped before anything is verified, on the node (at publish)
// and on the client (reading a log) alike.
//
// What honest clients make stays far below: libxmtp's registration carries
// two actions and two distinct signatures (the wallet's, shared by
// CreateInbox and the AddAssociation of the installation, and the
// installation's), adding a wallet two, and a revocation of every other
// installation one signature over one action per installation. Neither
// libxmtp nor xmtp-node-go caps either count (as read in their sources);
// both bound an update only by the request size.
import { IdentityError } from "../identity-error.js";

/** Most actions in one update: an inbox's members could not need more. */
export const maxActionsPerUpdate = 256;

/** Most distinct signatures in one update (a signature shared by several actions counts once). */
export const maxSignaturesPerUpdate = 16;

/** @throws IdentityError `identity.too_large` */
export function checkActionCount(count: number): void {
  if (count > maxActionsPerUpdate) {
    throw new IdentityError("identity.too_large", `${count} actions in one update exceed the cap of ${maxActionsPerUpdate}`);
  }
}

/** @throws IdentityError `identity.too_large` */
export function checkSignatureCount(count: number): void {
  if (count > maxSignaturesPerUpdate) {
    throw new IdentityError("identity.too_large", `${count} distinct signatures in one update exceed the cap of ${maxSignaturesPerUpdate}`);
  }
}
