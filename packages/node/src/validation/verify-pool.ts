// Signature checks off the event loop. One identity update costs up to a few
// milliseconds per signature (an Ethereum public key recovery most), a
// replay of a full inbox log most of a second, a key package two Ed25519
// verifications: on the event loop, an attacker sending the heaviest
// requests the limits allow would hold up every other caller, health checks
// included. So they run in worker threads (verify-worker.ts), and the event
// loop only decodes, applies the association rules (microseconds) and
// stores.
//
// The queue is bounded: past `maxQueued` jobs waiting, a new one is refused
// at once with `node.busy` (UNAVAILABLE: try again), so a flood costs the
// node a bounded amount of memory and the callers already queued are not
// made to wait behind it.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { IdentityError, type IdentityErrorCode, type UnverifiedIdentityUpdate, type VerifiedIdentityUpdate } from "@parley/identity";
import { MlsError, type MlsErrorCode } from "@parley/mls";
import { NodeError } from "../node-error.js";
import type { PoolAnswer, PoolFailure, PoolJob, PoolJobInit, PoolValue } from "./verify-jobs.js";
import type { KeyPackageFacts } from "./validators.js";

export interface VerifyPoolOptions {
  /** Worker threads; by default one fewer than the machine's cores, at least one, at most four. */
  readonly threads?: number;
  /** Jobs waiting or running at once, over all threads. */
  readonly maxQueued?: number;
}

export interface VerifyPool {
  /** verifyIdentityUpdate of @parley/identity, in a worker. */
  verifyIdentityUpdate(update: UnverifiedIdentityUpdate): Promise<VerifiedIdentityUpdate>;
  /** validateKeyPackage of @parley/mls, in a worker: the facts the node files it under. */
  validateKeyPackage(bytes: Uint8Array, nowSeconds: bigint): Promise<KeyPackageFacts>;
  /** Ends the threads; jobs still running are refused with `node.unavailable`. */
  close(): Promise<void>;
}

export const defaultVerifyPoolOptions: Required<VerifyPoolOptions> = {
  threads: Math.min(4, Math.max(1, availableParallelism() - 1)),
  maxQueued: 1024,
};

// The worker is this module's sibling: the .js build as installed, or the
// .ts source inside the repository (tests, `--conditions=@parley/source`),
// where a worker thread does not inherit the parent's `--import tsx` and
// registers tsx (a dev dependency of the repository) itself first.
const fromSource = import.meta.url.endsWith(".ts");
const workerUrl = new URL(fromSource ? "./verify-worker.ts" : "./verify-worker.js", import.meta.url);

function newWorker(): Worker {
  if (!fromSource) return new Worker(workerUrl);
  const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

interface Pending {
  readonly resolve: (value: PoolValue) => void;
  readonly reject: (error: unknown) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/** The library's own error again, so that the node's edge maps and logs it as if it ran here. */
function rebuild(failure: PoolFailure): Error {
  if (failure.library === "identity" && failure.code !== undefined) return new IdentityError(failure.code as IdentityErrorCode, failure.message);
  if (failure.library === "mls" && failure.code !== undefined) return new MlsError(failure.code as MlsErrorCode, failure.message);
  return new NodeError("node.internal", `verification failed in a worker: ${failure.message}`);
}

let shared: VerifyPool | undefined;

/**
 * The process's pool, started with the first job: every node of the
 * process shares it, as they share the cores. Its idle threads never keep
 * the process alive.
 */
export function sharedVerifyPool(): VerifyPool {
  return (shared ??= createVerifyPool());
}

export function createVerifyPool(options: VerifyPoolOptions = {}): VerifyPool {
  const { threads: size, maxQueued } = { ...defaultVerifyPoolOptions, ...options };
  const threads: Thread[] = [];
  let nextId = 1;
  let queued = 0;
  let closed = false;

  function start(): Thread {
    const worker = newWorker();
    const thread: Thread = { worker, pending: new Map() };
    // An idle pool never keeps the process alive; a busy one does (see submit).
    worker.unref();
    worker.on("message", (answer: PoolAnswer) => {
      const pending = thread.pending.get(answer.id);
      if (pending === undefined) return;
      thread.pending.delete(answer.id);
      queued -= 1;
      if (thread.pending.size === 0) worker.unref();
      if (answer.error === undefined) pending.resolve(answer.value);
      else pending.reject(rebuild(answer.error));
    });
    const fail = (error: unknown) => {
      threads.splice(threads.indexOf(thread), 1);
      for (const pending of thread.pending.values()) {
        pending.reject(closed ? new NodeError("node.unavailable", "the node is stopping") : new NodeError("node.internal", "a verification thread ended", { cause: error }));
      }
      queued -= thread.pending.size;
      thread.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (threads.includes(thread)) fail(new Error(`exited with code ${code}`));
    });
    threads.push(thread);
    return thread;
  }

  function submit(job: PoolJobInit): Promise<PoolValue> {
    if (closed) return Promise.reject(new NodeError("node.unavailable", "the node is stopping"));
    if (queued >= maxQueued) return Promise.reject(new NodeError("node.busy", "too many signature checks waiting: try again"));
    // The least busy thread, starting another while fewer than `size` run.
    let thread = threads.reduce<Thread | undefined>((best, t) => (best === undefined || t.pending.size < best.pending.size ? t : best), undefined);
    if (thread === undefined || (thread.pending.size > 0 && threads.length < size)) thread = start();
    const id = nextId++;
    queued += 1;
    if (thread.pending.size === 0) thread.worker.ref();
    const chosen = thread;
    return new Promise((resolve, reject) => {
      chosen.pending.set(id, { resolve, reject });
      chosen.worker.postMessage({ ...job, id } satisfies PoolJob);
    });
  }

  return {
    async verifyIdentityUpdate(update) {
      // A structured clone of what verifyIdentityUpdate returned in the
      // worker: the brand is a compile-time mark only.
      return (await submit({ kind: "identityUpdate", update })) as VerifiedIdentityUpdate;
    },
    async validateKeyPackage(bytes, nowSeconds) {
      return (await submit({ kind: "keyPackage", bytes, nowSeconds })) as KeyPackageFacts;
    },
    async close() {
      closed = true;
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}
