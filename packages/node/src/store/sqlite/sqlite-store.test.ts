// The SQLite store passes the store contract, on a real file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeContract } from "../store-contract.js";
import { SqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "parley-sqlite-store-"));

storeContract("SQLite", {
  open: (options) => Promise.resolve(new SqliteStore({ path: join(dir, "node.db"), ...options })),
  destroy: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
});
