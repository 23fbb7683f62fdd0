// The SQLite the store runs on: better-sqlite3-multiple-ciphers, a native
// addon whose binary its install script fetches or builds. Installed with
// scripts off (`npm install --ignore-scripts`, `ignore-scripts=true` in an
// .npmrc, some CI and container images) the package is there and its
// binary is not, and every open throws the loader's error ("Could not
// locate the bindings file"; a binary built for another Node version fails
// to load the same way). That is the setup's fault, not the database's: it
// is told apart before any file is touched, by opening a database in memory
// (which nothing else makes fail), and gets its own code and the remedy.
import Database from "better-sqlite3-multiple-ciphers";
import { ClientError } from "../client-error.js";

const PACKAGE = "better-sqlite3-multiple-ciphers";

/**
 * Where the addon comes from: its package's own binary, unless a test
 * names another file (the library's `nativeBinding` option). Internal: no
 * app chooses it.
 */
export interface NativeSqlite {
  readonly nativeBinding?: string;
}

/** The options every database of the store is opened with. */
export function databaseOptions(native: NativeSqlite): Database.Options {
  return native.nativeBinding === undefined ? {} : { nativeBinding: native.nativeBinding };
}

/**
 * Checks that the native addon loads.
 *
 * @throws ClientError `client.no_native_sqlite` when it does not, with the
 *   loader's error as the cause.
 */
export function assertNativeSqlite(native: NativeSqlite = {}): void {
  let probe: Database.Database;
  try {
    probe = new Database(":memory:", databaseOptions(native));
  } catch (cause) {
    throw new ClientError(
      "client.no_native_sqlite",
      `the native SQLite addon of ${PACKAGE} does not load (its binary is not built: was it installed with scripts off?): ` +
        `install it with scripts enabled, or run \`npm rebuild ${PACKAGE}\``,
      { cause },
    );
  }
  probe.close();
}
