// Loading the official MLS test vectors from ../shared/mls-test-vectors
// (beside the repository, never copied into it). Absent folder: the vector
// tests skip with a printed reason; under CI=true they must run, so the
// absence fails instead.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { it } from "node:test";

const VECTORS = new URL("../../../../../shared/mls-test-vectors/", import.meta.url);

export interface VectorFile<T> {
  readonly file: string;
  readonly cases: readonly T[];
}

/** The parsed file, or undefined after registering a skip (or, under CI, a failure). */
export function loadVectors<T>(file: string): VectorFile<T> | undefined {
  const path = fileURLToPath(new URL(file, VECTORS));
  if (!existsSync(path)) {
    const reason = `${file}: ${fileURLToPath(VECTORS)} is absent`;
    if (process.env.CI === "true") {
      void it(`${file} vectors are present (CI)`, () => {
        throw new Error(`${reason}; under CI=true the vector tests must run`);
      });
    } else {
      console.log(`skipping MLS vectors: ${reason}`);
      void it.skip(`${file} (vectors absent)`, () => {});
    }
    return undefined;
  }
  return { file, cases: JSON.parse(readFileSync(path, "utf8")) as T[] };
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "hex"));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Prints how many cases of a file ran, and why the rest did not. */
export function report(file: string, total: number, ran: number, notRun: string): void {
  const rest = total - ran;
  console.log(`${file}: ${ran} of ${total} cases run${rest > 0 ? `; ${rest} not applicable: ${notRun}` : ""}`);
}

export const SUITE_3 = 3;
export const notSuite3 = "ciphersuite is not 3 (Parley implements suite 3 only)";
