// Runs every *.test.ts of the repository with node's own test runner (TypeScript
// through tsx, and our packages from their sources through the `@parley/source`
// export condition, so no build is needed), so that node prints its summary. Node 20 has no glob support
// in --test, so the files are found here. Arguments narrow the set: any test
// file whose path contains one of them.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const skipDirs = new Set(["node_modules", ".git", ".parley", "gen"]);

function findTests(dir, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skipDirs.has(entry.name)) findTests(join(dir, entry.name), found);
    } else if (entry.name.endsWith(".test.ts")) {
      found.push(relative(root, join(dir, entry.name)));
    }
  }
  return found;
}

const filters = process.argv.slice(2);
const files = ["packages", "test"]
  .flatMap((dir) => {
    try {
      return findTests(join(root, dir));
    } catch {
      return [];
    }
  })
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort(slowestFirst);

/**
 * The runner takes files in this order, two at a time: the longest go first
 * so that they overlap with the many short ones rather than run alone at the
 * end (the packed install alone is about a minute).
 */
function slowestFirst(a, b) {
  const rank = (file) => (file.startsWith("test/packaging/") ? 0 : file.startsWith("test/interop/") ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
}

if (files.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--conditions=@parley/source", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
