// The engine is mended as it loads and checked before use: the files on disk
// stay as npm installed them, the module instances in use carry every mend,
// and an engine loaded before this package is refused with a typed error.
// (A packed install with scripts off, a wrong version and a changed text are
// in test/packaging, outside this repository's node_modules.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { MEND_MARK } from "./mend-hooks.js";
import { ENGINE_MENDS, ENGINE_VERSION, mendsByFile } from "./mends.js";
import { engine, engineFileUrl } from "./ts-mls.js";

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe("the engine", () => {
  it("is installed unmended: each mend's text is on disk exactly once, and none of its replacements", () => {
    for (const mend of ENGINE_MENDS) {
      const onDisk = readFileSync(fileURLToPath(engineFileUrl(mend.file)), "utf8");
      // A later mend of the same file may look for an earlier one's text.
      const dependsOnEarlier = ENGINE_MENDS.some((m) => m !== mend && m.file === mend.file && mend.find.includes("parley:"));
      if (!dependsOnEarlier) assert.equal(occurrences(onDisk, mend.find), 1, mend.id);
      assert.equal(onDisk.includes("parley:"), false, `${mend.file} was edited on disk`);
    }
  });

  it("runs with every mend, on the module instances it uses", async () => {
    assert.equal(typeof engine.createCommit, "function");
    for (const [file, mends] of Object.entries(mendsByFile())) {
      const loaded = (await import(engineFileUrl(file))) as Record<string, unknown>;
      assert.deepEqual(loaded[MEND_MARK], mends.map((m) => m.id), file);
    }
    const manifest = readFileSync(fileURLToPath(engineFileUrl("package.json")), "utf8");
    assert.equal((JSON.parse(manifest) as { version: string }).version, ENGINE_VERSION);
  });

  it("refuses to start, with mls.engine_unverified, when ts-mls was loaded before this package", () => {
    const index = new URL("../index.ts", import.meta.url).href;
    const program = `
      await import("ts-mls");
      try {
        await import(${JSON.stringify(index)});
        console.log("started");
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
      }`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--conditions=@parley/source", "--input-type=module", "-e", program], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const outcome = JSON.parse(run.stdout.trim()) as { name: string; code: string; message: string };
    assert.equal(outcome.name, "MlsError");
    assert.equal(outcome.code, "mls.engine_unverified");
    assert.match(outcome.message, /loaded before @parley\/mls/);
  });
});
