// Our key packages (../shared/spec/xmtp-client.md section 1.3; the policy is
// key-packages.ts): the private halves by init key (table `key_packages`),
// which the node confirmed it took (`key_package_uploads`), and which a
// welcome used (`key_package_uses`). A deleted private half must leave the
// disk: see LocalStore.scrub.
import type Database from "better-sqlite3-multiple-ciphers";
import { blob, bytesOf } from "./sql-values.js";

export class KeyPackageStore {
  readonly #save: Database.Statement<[Buffer, Buffer, Buffer, bigint]>;
  readonly #get: Database.Statement<[Buffer], { key_package: Buffer; private_key_package: Buffer }>;
  readonly #markUploaded: Database.Statement<[Buffer]>;
  readonly #newestNotUploaded: Database.Statement<[], { init_key: Buffer; key_package: Buffer }>;
  readonly #markUsed: Database.Statement<[Buffer, bigint]>;
  readonly #newestUsed: Database.Statement<[]>;
  readonly #newestNs: Database.Statement<[], { ns: bigint | null }>;
  readonly #deleteReplacedBefore: Database.Statement<[bigint]>;
  readonly #count: Database.Statement<[], { n: bigint }>;

  constructor(db: Database.Database) {
    this.#save = db.prepare("INSERT OR REPLACE INTO key_packages (init_key, key_package, private_key_package, created_ns) VALUES (?, ?, ?, ?)");
    this.#get = db.prepare("SELECT key_package, private_key_package FROM key_packages WHERE init_key = ?");
    this.#markUploaded = db.prepare("INSERT OR IGNORE INTO key_package_uploads (init_key) VALUES (?)");
    this.#newestNotUploaded = db.prepare(
      "SELECT init_key, key_package FROM key_packages WHERE init_key NOT IN (SELECT init_key FROM key_package_uploads) " +
        "AND created_ns = (SELECT max(created_ns) FROM key_packages)",
    );
    this.#markUsed = db.prepare("INSERT OR IGNORE INTO key_package_uses (init_key, used_ns) VALUES (?, ?)");
    this.#newestUsed = db.prepare(
      "SELECT 1 FROM key_package_uses WHERE init_key = (SELECT init_key FROM key_packages ORDER BY created_ns DESC LIMIT 1)",
    );
    this.#newestNs = db.prepare("SELECT max(created_ns) AS ns FROM key_packages");
    this.#deleteReplacedBefore = db.prepare(
      "DELETE FROM key_packages WHERE created_ns < (SELECT max(created_ns) FROM key_packages WHERE created_ns <= ?)",
    );
    this.#count = db.prepare("SELECT count(*) AS n FROM key_packages");
  }

  save(initKey: Uint8Array, keyPackage: Uint8Array, privateKeyPackage: Uint8Array, createdNs: bigint): void {
    this.#save.run(blob(initKey), blob(keyPackage), blob(privateKeyPackage), createdNs);
  }

  get(initKey: Uint8Array): { keyPackage: Uint8Array; privateKeyPackage: Uint8Array } | undefined {
    const row = this.#get.get(blob(initKey));
    return row === undefined ? undefined : { keyPackage: bytesOf(row.key_package), privateKeyPackage: bytesOf(row.private_key_package) };
  }

  markUploaded(initKey: Uint8Array): void {
    this.#markUploaded.run(blob(initKey));
  }

  /** The newest key package when the node has not confirmed its upload (the call failed or its answer was lost). */
  newestNotUploaded(): { initKey: Uint8Array; keyPackage: Uint8Array } | undefined {
    const row = this.#newestNotUploaded.get();
    return row === undefined ? undefined : { initKey: bytesOf(row.init_key), keyPackage: bytesOf(row.key_package) };
  }

  /** A welcome opened with this key package: whoever fetched it knows we joined something. */
  markUsed(initKey: Uint8Array, ns: bigint): void {
    this.#markUsed.run(blob(initKey), ns);
  }

  /** Whether the newest key package (the one the node hands out) was used by a welcome. */
  newestUsed(): boolean {
    return this.#newestUsed.get() !== undefined;
  }

  /** When the newest key package was made; undefined before the first. */
  newestNs(): bigint | undefined {
    return this.#newestNs.get()?.ns ?? undefined;
  }

  /**
   * Deletes every key package that a newer one, made at or before
   * `cutoffNs`, replaced: welcomes wrapped to it had until then to arrive.
   * @returns how many were deleted
   */
  deleteReplacedBefore(cutoffNs: bigint): number {
    return Number(this.#deleteReplacedBefore.run(cutoffNs).changes);
  }

  count(): number {
    return Number(this.#count.get()?.n ?? 0n);
  }
}
