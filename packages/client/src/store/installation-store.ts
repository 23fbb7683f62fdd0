// The installation this database belongs to (table `installation`, one
// row): its inbox, the wallet address that registered it, the Ed25519
// installation secret key, and the cursor of the welcomes read so far.
// Written once, after registration succeeded (client.ts).
import type Database from "better-sqlite3-multiple-ciphers";
import { blob, bytesOf } from "./sql-values.js";

export interface InstallationRow {
  readonly inboxId: string;
  readonly address: string;
  readonly installationSecret: Uint8Array;
  readonly welcomeCursor: bigint;
}

interface RawInstallation {
  inbox_id: string;
  address: string;
  installation_secret: Buffer;
  welcome_cursor: bigint;
}

export class InstallationStore {
  readonly #get: Database.Statement<[], RawInstallation>;
  readonly #insert: Database.Statement<[string, string, Buffer]>;
  readonly #setWelcomeCursor: Database.Statement<[bigint]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare("SELECT inbox_id, address, installation_secret, welcome_cursor FROM installation WHERE id = 1");
    this.#insert = db.prepare("INSERT INTO installation (id, inbox_id, address, installation_secret) VALUES (1, ?, ?, ?)");
    this.#setWelcomeCursor = db.prepare("UPDATE installation SET welcome_cursor = ? WHERE id = 1");
  }

  get(): InstallationRow | undefined {
    const row = this.#get.get();
    if (row === undefined) return undefined;
    return { inboxId: row.inbox_id, address: row.address, installationSecret: bytesOf(row.installation_secret), welcomeCursor: row.welcome_cursor };
  }

  save(row: Omit<InstallationRow, "welcomeCursor">): void {
    this.#insert.run(row.inboxId, row.address, blob(row.installationSecret));
  }

  setWelcomeCursor(cursor: bigint): void {
    this.#setWelcomeCursor.run(cursor);
  }
}
