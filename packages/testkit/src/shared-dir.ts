// Where ../shared (the MLS test vectors and the spec) is, beside the
// repository. It is absent on some machines: tests that need it skip with a
// printed reason there, and fail under CI=true, where it is always present.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const sharedDir = fileURLToPath(new URL("../../../../shared/", import.meta.url));

/** The absolute path of a file in ../shared, or undefined when it is absent. */
export function sharedPath(relativePath: string): string | undefined {
  const path = `${sharedDir}${relativePath}`;
  if (existsSync(path)) return path;
  if (process.env.CI === "true") {
    throw new Error(`../shared/${relativePath} is missing, and under CI=true it must be present`);
  }
  return undefined;
}

/**
 * The node:test `skip` option for a test that needs ../shared/relativePath:
 * false when present, else the reason (also printed).
 */
export function skipUnlessShared(relativePath: string): false | string {
  if (sharedPath(relativePath) !== undefined) return false;
  const reason = `../shared/${relativePath} is absent on this machine`;
  console.log(`# skipped: ${reason}`);
  return reason;
}
