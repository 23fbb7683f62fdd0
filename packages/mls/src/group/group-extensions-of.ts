// Reading XMTP's extension payloads out of a group's current context.
import { readGroupExtensions, type XmtpGroupExtensions } from "../xmtp/group-extensions.js";
import { engineOf, type GroupState } from "./group-state.js";

/** @throws MlsError `mls.invalid` when the group lacks one of XMTP's extensions. */
export function groupExtensions(state: GroupState): XmtpGroupExtensions {
  return readGroupExtensions(engineOf(state).groupContext.extensions);
}
