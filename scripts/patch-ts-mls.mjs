// Mends one line of ts-mls 2.0.0-rc.10 after install (run by the root
// package's postinstall). RFC 9420 section 12.4: a Commit MUST carry an
// UpdatePath when it covers any Update, Remove or GroupContextExtensions
// proposal. rc.10 asks for one only when there are two or more Updates or
// Removes and never for GroupContextExtensions, so a single removal left the
// removed member able to derive the next epoch and read what follows, and
// OpenMLS (libxmtp) refused our metadata and single-removal commits. The
// same rule decides what a received commit must carry. Still left out: a
// commit that adds members keeps no path, because rc.10's createUpdatePath
// fails when Adds grow the tree (it reads the new leaves from the old tree);
// OpenMLS members refuse such a commit, which @parley/client's notes track.
// The patch refuses to
// run against any other text or version, so an upgrade can't pass silently.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const EXPECTED_VERSION = "2.0.0-rc.10";
const BROKEN = `        const needsUpdatePath = allProposals.length === 0 ||
            Object.values(grouped[defaultProposalTypes.update]).length > 1 ||
            Object.values(grouped[defaultProposalTypes.remove]).length > 1;`;
const MENDED = `        const needsUpdatePath = allProposals.length === 0 ||
            grouped[defaultProposalTypes.update].length > 0 ||
            grouped[defaultProposalTypes.remove].length > 0 ||
            (grouped[defaultProposalTypes.group_context_extensions].length > 0 &&
                grouped[defaultProposalTypes.add].length === 0); /* parley: RFC 9420 12.4, see patch-ts-mls.mjs */`;

// RFC 9420 12.4.1-12.4.2: path secrets are encrypted to the provisional
// GroupContext, which carries the extensions a GroupContextExtensions
// proposal sets; rc.10's sender used the old context (its receiver uses the
// new one), so a GCE commit with a path could not be decrypted.
const COMMIT_BROKEN = "createUpdatePath(state.ratchetTree, mutableTree, toLeafIndex(state.privatePath.leafIndex), state.groupContext, state.signaturePrivateKey, cipherSuite)";
const COMMIT_MENDED =
  "createUpdatePath(state.ratchetTree, mutableTree, toLeafIndex(state.privatePath.leafIndex), " +
  "{ ...state.groupContext, extensions: res.additionalResult.kind === \"memberCommit\" && res.additionalResult.extensions.length > 0 " +
  "? res.additionalResult.extensions : state.groupContext.extensions } /* parley: provisional context */, state.signaturePrivateKey, cipherSuite)";

function mend(file, broken, mended, what) {
  const text = readFileSync(file, "utf8");
  if (text.includes(mended)) return console.log(`patch-ts-mls: ${what}: already applied`);
  if (!text.includes(broken)) {
    console.error(`patch-ts-mls: ${what}: the expected code was not found in ts-mls; refusing to guess`);
    process.exit(1);
  }
  writeFileSync(file, text.replace(broken, mended));
  console.log(`patch-ts-mls: ${what}: applied`);
}

const require = createRequire(join(process.cwd(), "packages/mls/package.json"));
let entry;
try {
  entry = require.resolve("ts-mls");
} catch {
  console.log("patch-ts-mls: ts-mls is not installed; nothing to do");
  process.exit(0);
}
let root = dirname(entry);
while (!root.endsWith("ts-mls")) root = dirname(root);
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
if (version !== EXPECTED_VERSION) {
  console.error(`patch-ts-mls: ts-mls is ${version}, the patch is for ${EXPECTED_VERSION}: check whether it is still needed`);
  process.exit(1);
}
const file = join(root, "dist/src/clientState.js");
const source = readFileSync(file, "utf8");
const PREVIOUS = / {8}const needsUpdatePath = allProposals\.length === 0 \|\|[\s\S]*?\/\* parley: RFC 9420 12\.4[^*]*\*\//;
if (source.includes(MENDED)) {
  console.log("patch-ts-mls: already applied");
} else if (source.includes(BROKEN) || PREVIOUS.test(source)) {
  writeFileSync(file, source.includes(BROKEN) ? source.replace(BROKEN, MENDED) : source.replace(PREVIOUS, MENDED));
  console.log("patch-ts-mls: UpdatePath rule of RFC 9420 12.4 applied");
} else {
  console.error("patch-ts-mls: the expected code was not found in ts-mls; refusing to guess");
  process.exit(1);
}
mend(join(root, "dist/src/createCommit.js"), COMMIT_BROKEN, COMMIT_MENDED, "provisional context for UpdatePath encryption");
