// Who may import whom, as ../shared/ARCHITECTURE.md draws it:
//   cli -> node -> mls -> proto;  cli -> client -> {mls, identity} -> proto.
// node and client never import each other; mls and identity know nothing of
// networks or databases; no cycles; no reaching into another package's files.
const pkg = (name) => `^packages/${name}/`;

module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", from: {}, to: { circular: true } },
    {
      name: "proto-imports-nothing-of-ours",
      severity: "error",
      from: { path: pkg("proto") },
      to: { path: "^packages/(?!(proto|testkit)/)" },
    },
    {
      name: "mls-imports-only-proto",
      severity: "error",
      from: { path: pkg("mls") },
      to: { path: "^packages/(?!(mls|proto|testkit)/)" },
    },
    {
      name: "identity-imports-only-proto",
      severity: "error",
      from: { path: pkg("identity") },
      to: { path: "^packages/(?!(identity|proto|testkit)/)" },
    },
    {
      name: "node-never-imports-client",
      severity: "error",
      from: { path: pkg("node") },
      to: { path: "^packages/(client|cli)/" },
    },
    {
      name: "client-never-imports-node",
      comment: "Tests join them: only client's *.test.ts files may start a node in process.",
      severity: "error",
      from: { path: pkg("client"), pathNot: "\\.test\\.ts$" },
      to: { path: "^packages/(node|cli)/" },
    },
    {
      name: "client-tests-never-import-cli",
      severity: "error",
      from: { path: pkg("client") },
      to: { path: "^packages/cli/" },
    },
    {
      name: "product-never-imports-testkit",
      severity: "error",
      // Test files and their helpers (*.test-util.ts), which no build ships.
      from: { path: "^packages/(?!testkit/)[^/]+/src/", pathNot: "\\.test(-util)?\\.ts$" },
      to: { path: "^packages/testkit/" },
    },
    {
      name: "only-through-the-public-surface",
      comment: "Another package is reached through its src/index.ts only.",
      severity: "error",
      from: { path: "^packages/([^/]+)/" },
      to: {
        path: "^packages/([^/]+)/",
        pathNot: ["^packages/$1/", "^packages/[^/]+/src/index\\.ts$"],
      },
    },
    {
      name: "no-io-in-mls-and-identity",
      comment: "mls and identity do no I/O: no network, file system or database modules.",
      severity: "error",
      from: { path: "^packages/(mls|identity)/src/", pathNot: "\\.test\\.ts$" },
      to: {
        dependencyTypes: ["core", "npm"],
        path: "^(node:)?(fs|fs/promises|net|http|http2|https|dgram|child_process|worker_threads|better-sqlite3|better-sqlite3-multiple-ciphers|pg|postgres)$",
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|gen|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["@parley/source", "import", "node", "default"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
