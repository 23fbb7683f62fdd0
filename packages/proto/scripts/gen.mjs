// Regenerates src/gen from proto/ with buf and protoc-gen-es (both from npm).
// `npm run gen` calls it; the staleness test calls generate() into a
// temporary folder and compares.
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs buf generate with the package's buf.gen.yaml, writing to `outDir`. */
export function generate(outDir = join(packageDir, "src/gen")) {
  const bin = join(packageDir, "node_modules/.bin");
  const rootBin = join(packageDir, "../../node_modules/.bin");
  const template = JSON.stringify({
    version: "v2",
    clean: true,
    plugins: [
      {
        local: "protoc-gen-es",
        out: outDir,
        include_imports: true,
        opt: ["target=ts", "import_extension=js"],
      },
    ],
  });
  execFileSync("buf", ["generate", "--template", template], {
    cwd: packageDir,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PATH: `${bin}:${rootBin}:${process.env.PATH}` },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  generate();
}
