// Rule 7 of a receiver's commit checks (../shared/spec/xmtp-client.md
// section 3.5): a commit that raises the group's
// `minimum_supported_protocol_version` above what this client implements
// is paused, not refused: the group stops before it (the cursor stays), and
// a later version of the client applies it. libxmtp compares against its own
// crate version; Parley states the libxmtp version whose groups it is
// tested against.
import { groupExtensions, type GroupState } from "@parley/mls";
import { decodeMutableMetadata } from "./group-metadata.js";

/** The libxmtp version (@xmtp/node-bindings 1.9.1, in @xmtp/node-sdk 5.5.0) whose groups this client reads. */
export const PROTOCOL_VERSION = "1.9.1";

const MIN_VERSION_KEY = "minimum_supported_protocol_version";

function parts(version: string): number[] | undefined {
  const core = version.trim().split(/[-+]/, 1)[0] ?? "";
  const numbers = core.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  return numbers.some((n) => Number.isNaN(n)) ? undefined : numbers;
}

/** Whether `required` is a version above `ours` (numeric, dot by dot; an unreadable one counts as above). */
export function isNewerVersion(required: string, ours: string = PROTOCOL_VERSION): boolean {
  const r = parts(required);
  const o = parts(ours);
  if (r === undefined || o === undefined) return true;
  for (let i = 0; i < Math.max(r.length, o.length); i += 1) {
    const a = r[i] ?? 0;
    const b = o[i] ?? 0;
    if (a !== b) return a > b;
  }
  return false;
}

/** The version a state's group requires, when it is above ours; undefined when we may go on. */
export function requiredVersionAboveOurs(state: GroupState): string | undefined {
  let required: string | undefined;
  try {
    required = decodeMutableMetadata(groupExtensions(state).mutableMetadata).attributes[MIN_VERSION_KEY];
  } catch {
    return undefined;
  }
  if (required === undefined || required === "") return undefined;
  return isNewerVersion(required) ? required : undefined;
}
