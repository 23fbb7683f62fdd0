// Noticing a second holder of our installation key: a stolen device state,
// or a restored backup running beside the original. Nothing in MLS or
// XMTP's identity stops it (it signs as we do); what it signs and we did not
// make is the evidence, reported so that the app can revoke the
// installation (Client.revokeInstallations) and register a new one:
// - a commit or proposal signed by our leaf that is not one of our payloads
//   (process-envelope.ts; @parley/mls returns it as `from_own_leaf`);
// - an application message signed by our leaf that we did not send;
// - a key package for our installation on the node that we did not make:
//   the other holder joined a group through a welcome we did not get and
//   rotated the key package it used, as every XMTP client does after a join
//   (../shared/spec/xmtp-client.md section 1.3).
// Only evidence that a signature with our key proves is reported: a message
// that merely claims our leaf (sender data any member can write) and does
// not verify is an ordinary refusal.
import { validateKeyPackage } from "@parley/mls";
import { call } from "../api/api-client.js";
import type { ClientContext } from "../client-context.js";
import { logSecurity, type ClientLogger } from "../logging.js";

/** What showed that another holder of our installation key is active. */
export type CloneEvidence =
  /** A commit or proposal in a group, signed by our leaf, that we did not make. */
  | "commit"
  /** An application message in a group, signed by our leaf, that we did not send. */
  | "message"
  /** The node hands out a key package for our installation that we did not make. */
  | "key_package";

export interface ClonedInstallationReport {
  readonly evidence: CloneEvidence;
  /** Hex of the group, for evidence found in one. */
  readonly groupId?: string;
  /** The node's id of the envelope that carried it. */
  readonly cursor?: bigint;
}

export type ClonedInstallationListener = (report: ClonedInstallationReport) => void;

/** Logs each report under `security.installation_cloned` and hands it to the app's listener. */
export class CloneReporter {
  readonly #logger: ClientLogger;
  readonly #listener: ClonedInstallationListener | undefined;
  /** Key packages already reported: the node keeps handing out the same one. */
  readonly #reportedKeyPackages = new Set<string>();

  constructor(logger: ClientLogger, listener: ClonedInstallationListener | undefined) {
    this.#logger = logger;
    this.#listener = listener;
  }

  report(report: ClonedInstallationReport): void {
    logSecurity(this.#logger, "security.installation_cloned", {
      evidence: report.evidence,
      ...(report.groupId === undefined ? {} : { groupId: report.groupId }),
      ...(report.cursor === undefined ? {} : { cursor: report.cursor.toString() }),
    });
    try {
      this.#listener?.(report);
    } catch {
      // The app's listener failing must not stop a sync half way.
    }
  }

  /** Reports a foreign key package once per client run, however many syncs see it. */
  reportKeyPackage(initKeyHex: string): void {
    if (this.#reportedKeyPackages.has(initKeyHex)) return;
    this.#reportedKeyPackages.add(initKeyHex);
    this.report({ evidence: "key_package" });
  }
}

/**
 * Compares the key package the node hands out for our installation with
 * the ones we made. One that does not validate, or is not for our
 * installation, is the node's fault and proves nothing about a clone.
 *
 * @throws ClientError `client.network`
 */
export async function checkOwnKeyPackage(ctx: ClientContext): Promise<void> {
  const response = await call("FetchKeyPackages", () => ctx.api.mls.fetchKeyPackages({ installationKeys: [ctx.installationKey] }));
  const bytes = response.keyPackages[0]?.keyPackageTlsSerialized;
  if (bytes === undefined || bytes.length === 0) return;
  let initKey: Uint8Array;
  try {
    const checked = await validateKeyPackage(bytes);
    if (Buffer.compare(checked.installationKey, ctx.installationKey) !== 0) return;
    initKey = checked.initKey;
  } catch {
    return;
  }
  if (ctx.store.keyPackage(initKey) === undefined) ctx.clones.reportKeyPackage(Buffer.from(initKey).toString("hex"));
}
