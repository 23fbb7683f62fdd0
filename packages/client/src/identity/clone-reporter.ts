// Where evidence of a cloned installation goes (cloned-installation.ts says
// what counts as evidence): the log, under `security.installation_cloned`,
// and the app's `onInstallationCloned` listener.
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
