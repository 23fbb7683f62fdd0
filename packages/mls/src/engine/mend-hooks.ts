// The module hooks that apply engine/mends.ts as the engine's files load
// (Node's module customization hooks, `module.register`). They run on Node's
// hooks thread, which loads them from this source as a `data:` URL: no file
// of ours to locate, built or not. Written as plain JavaScript on purpose;
// the mends arrive as `data` from engine/ts-mls.ts.
//
// A file of the engine's package with mends gets them applied in order, each
// text found exactly once or the load fails, and then an export naming the
// mends applied, which engine/ts-mls.ts reads back from the module instance
// in use. A file that already carries that export (a second copy of this
// package mended it first) is passed on as it is.

/** The export each mended file gets: the ids of its mends, in order. */
export const MEND_MARK = "parleyEngineMends";

export interface MendHooksData {
  /** The engine package's folder, as a file: URL ending in "/". */
  readonly root: string;
  /** Path inside the package -> its mends, in order. */
  readonly files: Record<string, readonly { id: string; find: string; replace: string }[]>;
}

export const MEND_HOOKS_SOURCE = `
const MARK = ${JSON.stringify(MEND_MARK)};
let root = "";
let files = {};
export function initialize(data) {
  root = data.root;
  files = data.files;
}
export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.startsWith(root)) return loaded;
  const mends = files[url.slice(root.length)];
  if (mends === undefined || loaded.source == null) return loaded;
  let text = typeof loaded.source === "string" ? loaded.source : new TextDecoder().decode(loaded.source);
  if (text.includes("export const " + MARK + " =")) return { ...loaded, source: text };
  for (const mend of mends) {
    const at = text.indexOf(mend.find);
    if (at < 0 || text.indexOf(mend.find, at + 1) >= 0) {
      throw new Error("@parley/mls: the engine mend " + mend.id + " does not match " + url + " exactly once");
    }
    text = text.slice(0, at) + mend.replace + text.slice(at + mend.find.length);
  }
  const ids = JSON.stringify(mends.map((mend) => mend.id));
  return { ...loaded, source: text + "\\nexport const " + MARK + " = " + ids + ";\\n" };
}
`;
