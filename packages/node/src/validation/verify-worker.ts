// A thread of the verification pool (verify-pool.ts): runs the checks that
// cost milliseconds (identity update signatures, key package signatures)
// for the node's event loop, and answers with plain data or the library's
// error as code and message.
import { parentPort } from "node:worker_threads";
import { isIdentityError, verifyIdentityUpdate } from "@parley/identity";
import { isMlsError, validateKeyPackage } from "@parley/mls";
import type { PoolAnswer, PoolJob, PoolValue } from "./verify-jobs.js";

const port = parentPort;
if (port === null) throw new Error("verify-worker.ts runs as a worker thread");

async function run(job: PoolJob): Promise<PoolValue> {
  switch (job.kind) {
    case "identityUpdate":
      return verifyIdentityUpdate(job.update);
    case "keyPackage": {
      const validated = await validateKeyPackage(job.bytes, { nowSeconds: job.nowSeconds });
      return { installationKey: validated.installationKey, inboxId: validated.inboxId, notBefore: validated.notBefore };
    }
  }
}

port.on("message", (job: PoolJob) => {
  run(job).then(
    (value) => port.postMessage({ id: job.id, value } satisfies PoolAnswer),
    (error: unknown) => {
      const library = isIdentityError(error) ? "identity" : isMlsError(error) ? "mls" : "other";
      const code = isIdentityError(error) || isMlsError(error) ? error.code : undefined;
      const message = error instanceof Error ? error.message : "verification failed";
      port.postMessage({ id: job.id, error: { library, code, message } } satisfies PoolAnswer);
    },
  );
});
