// The files `parley` makes are its user's alone: the node's database
// (every message, key package and identity update it stores) and SQLite's
// side files beside it (-wal, -shm, -journal) are 0600,
// the folders made for them 0700. Each is made with its mode at creation
// (open and mkdir take it), so there is no moment another user could open
// it; SQLite creates the side files with the database file's mode.
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;
const SIDE_FILES = ["-wal", "-shm", "-journal"];

const errorCode = (error: unknown) => (error instanceof Error && "code" in error ? error.code : undefined);

/**
 * Makes `path` ready for SQLite: its missing folders made 0700, the file
 * made 0600 if it is not there, and an existing file or side file looser
 * than that (an older version's, or one copied in) tightened to 0600
 * before it is opened. Folders that already exist are left as they are:
 * they may be shared (the working directory, /var/lib).
 *
 * @throws the errors of node:fs (a folder that cannot be made, a file
 *   that is not ours to chmod).
 */
export function prepareOwnerOnlyFile(path: string): void {
  if (path === ":memory:") return;
  mkdirSync(dirname(path), { recursive: true, mode: OWNER_ONLY_DIR });
  for (const file of [path, ...SIDE_FILES.map((suffix) => path + suffix)]) {
    try {
      chmodSync(file, OWNER_ONLY_FILE);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
  }
  try {
    closeSync(openSync(path, "wx", OWNER_ONLY_FILE));
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
  }
}
