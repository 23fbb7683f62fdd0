// The one door to the engine. Every module of this package takes ts-mls's
// functions from here (its types straight from "ts-mls", which costs
// nothing at run time), so the engine is loaded once, mended, and checked
// before any of them runs:
//
// 1. the ts-mls that resolves from here must be exactly ENGINE_VERSION;
// 2. engine/mend-hooks.ts is registered as a module hook, and only then is
//    ts-mls imported (dynamically: a static import would load it before
//    any code of ours could run), so its files are mended as they load;
// 3. every mended file's module instance, the one the engine really uses,
//    must carry the mark of exactly the mends of engine/mends.ts. One that
//    does not was loaded before this module (an app that imported ts-mls
//    first, a bundle that inlined it) and runs without them.
//
// Any failure is an MlsError `mls.engine_unverified` thrown while this
// package loads: an engine we have not verified never runs unnoticed.
import * as nodeModule from "node:module";
import type * as Engine from "ts-mls";
import { MlsError } from "../mls-error.js";
import { MEND_HOOKS_SOURCE, MEND_MARK, type MendHooksData } from "./mend-hooks.js";
import { ENGINE_PACKAGE, ENGINE_VERSION, mendsByFile } from "./mends.js";

function unverified(reason: string, cause?: unknown): MlsError {
  return new MlsError("mls.engine_unverified", `@parley/mls: ${reason}`, cause === undefined ? {} : { cause });
}

/** The engine package's folder, found the way this package's imports find it. */
function engineRoot(): URL {
  let entry: string;
  try {
    entry = import.meta.resolve(ENGINE_PACKAGE);
  } catch (cause) {
    throw unverified(`${ENGINE_PACKAGE} cannot be resolved`, cause);
  }
  // The package's entry is dist/src/index.js (its `exports`, checked below
  // through the version it belongs to).
  return new URL("../../", entry);
}

function checkVersion(root: URL): void {
  let manifest: { name?: unknown; version?: unknown };
  try {
    // Through the module loader, relative to the package's own folder: its
    // `exports` does not publish package.json.
    manifest = nodeModule.createRequire(new URL("package.json", root))("./package.json") as typeof manifest;
  } catch (cause) {
    throw unverified(`no readable package.json for ${ENGINE_PACKAGE} at ${root.href}`, cause);
  }
  if (manifest.name !== ENGINE_PACKAGE || manifest.version !== ENGINE_VERSION) {
    throw unverified(
      `found ${String(manifest.name)}@${String(manifest.version)}, verified only with ${ENGINE_PACKAGE}@${ENGINE_VERSION}`,
    );
  }
}

async function checkMends(root: URL): Promise<void> {
  for (const [file, mends] of Object.entries(mendsByFile())) {
    const loaded = (await import(new URL(file, root).href)) as Record<string, unknown>;
    const applied = loaded[MEND_MARK];
    const expected = mends.map((mend) => mend.id);
    if (!Array.isArray(applied) || applied.join(",") !== expected.join(",")) {
      throw unverified(
        `${ENGINE_PACKAGE}'s ${file} runs without the mends ${expected.join(", ")}: ` +
          `it was loaded before @parley/mls (import @parley/mls before ${ENGINE_PACKAGE}, and do not bundle it)`,
      );
    }
  }
}

async function loadEngine(): Promise<typeof Engine> {
  const root = engineRoot();
  checkVersion(root);
  if (typeof nodeModule.register !== "function") {
    throw unverified("this runtime has no module.register (Node.js 20.6 or later), so the engine cannot be mended");
  }
  const data: MendHooksData = { root: root.href, files: mendsByFile() };
  nodeModule.register(`data:text/javascript,${encodeURIComponent(MEND_HOOKS_SOURCE)}`, {
    parentURL: import.meta.url,
    data,
  });
  let engine: typeof Engine;
  try {
    engine = await import("ts-mls");
  } catch (cause) {
    throw unverified(`${ENGINE_PACKAGE} did not load with its mends`, cause);
  }
  await checkMends(root);
  return engine;
}

/** ts-mls, mended and verified. */
export const engine: typeof Engine = await loadEngine();

/** A file of the engine's package, for tests that reach its internals (same module instances). */
export function engineFileUrl(file: string): string {
  return new URL(file, engineRoot()).href;
}

export const {
  ciphersuites,
  clientStateDecoder,
  clientStateEncoder,
  CodecError,
  contentTypes,
  createApplicationMessage,
  createCommit,
  createGroup,
  CryptoError,
  CryptoVerificationError,
  defaultCredentialTypes,
  defaultExtensionTypes,
  defaultKeyPackageEqualityConfig,
  defaultProposalTypes,
  encode,
  generateKeyPackageWithKey,
  getOwnLeafNode,
  joinGroup,
  keyPackageDecoder,
  keyPackageEncoder,
  leafNodeSources,
  makeCustomExtension,
  makeKeyPackageRef,
  mlsMessageDecoder,
  mlsMessageEncoder,
  nodeTypes,
  privateKeyPackageDecoder,
  privateKeyPackageEncoder,
  processPrivateMessage,
  protocolVersions,
  UsageError,
  ValidationError,
  wireformats,
} = engine;
