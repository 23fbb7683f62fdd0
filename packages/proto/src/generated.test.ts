// The generated code that is checked in is what `npm run gen` makes from the
// .proto sources today, and the registry lists every generated file.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { allFiles } from "./index.js";
// @ts-expect-error: a plain ESM script without types
import { generate } from "../scripts/gen.mjs";

const genDir = fileURLToPath(new URL("./gen", import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe("generated code", () => {
  const fresh = mkdtempSync(join(tmpdir(), "parley-proto-gen-"));
  after(() => rmSync(fresh, { recursive: true, force: true }));

  it("is up to date with proto/ (run `npm run gen` if this fails)", () => {
    (generate as (out: string) => void)(fresh);
    const expected = listFiles(fresh);
    assert.deepEqual(listFiles(genDir), expected, "the set of generated files differs");
    for (const file of expected) {
      const checkedIn = readFileSync(join(genDir, file), "utf8");
      assert.equal(checkedIn, readFileSync(join(fresh, file), "utf8"), `${file} is stale`);
    }
  });

  it("is all in the registry", () => {
    const registered = allFiles.map((f) => `${f.name.replace(/\.proto$/, "")}_pb.ts`).sort();
    assert.deepEqual(registered, listFiles(genDir));
  });
});
