// `parley node start` (what `npm start` runs) with zero setup: it makes its
// database, serves, and on SIGTERM stops in order and exits 0; what it
// acknowledged is there after a restart.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { health, mlsApi } from "@parley/proto";
import { mlsSamples } from "@parley/testkit";

const bin = fileURLToPath(new URL("../bin/parley.mjs", import.meta.url));

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly log: string[];
}

function start(cwd: string, args: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [bin, "node", "start", "--host", "127.0.0.1", "--port", "0", ...args], {
    cwd,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "node listening" in 30 s: ${log.join("")}`)), 30_000);
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      log.push(chunk);
      const line = log.join("").split("\n").find((l) => l.includes('"node listening"'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url, log });
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${log.join("")}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("parley node start", { timeout: 120_000 }, () => {
  it("runs with zero setup, stops on SIGTERM with exit 0, and keeps what it acknowledged", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "parley-cli-"));
    try {
      const first = await start(cwd);
      assert.ok(existsSync(join(cwd, ".parley/node.db")), "the database is made under .parley/ on first start");
      const transport = createGrpcTransport({ baseUrl: first.url });
      const status = await createClient(health.Health, transport).check({});
      assert.equal(status.status, health.HealthCheckResponse_ServingStatus.SERVING);

      const samples = await mlsSamples(1);
      const mls = createClient(mlsApi.MlsApi, transport);
      await mls.sendGroupMessages({ messages: [{ version: { case: "v1", value: { data: samples.applicationMessages[0]! } } }] });
      // A stream open at shutdown is ended, not left hanging.
      const stream = mls.subscribeGroupMessages({ filters: [{ groupId: samples.groupId }] });
      const streamed = (async () => {
        let count = 0;
        for await (const _ of stream) count++;
        return count;
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));

      const exited = exitOf(first.child);
      first.child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.equal(await streamed, 1, "the stream delivered the stored message, then ended");
      const log = first.log.join("");
      assert.ok(log.includes('"node stopped"'));
      assert.ok(!log.includes(Buffer.from(samples.applicationMessages[0]!).toString("base64")), "no payloads in logs");

      const second = await start(cwd);
      try {
        const page = await createClient(mlsApi.MlsApi, createGrpcTransport({ baseUrl: second.url })).queryGroupMessages({
          groupId: samples.groupId,
        });
        assert.equal(page.messages.length, 1);
      } finally {
        const stopped = exitOf(second.child);
        second.child.kill("SIGINT");
        assert.equal(await stopped, 0);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("makes its folders 0700 and its database and side files 0600 from the first byte, and tightens a looser database", { skip: process.platform === "win32" }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), "parley-cli-modes-"));
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    const stop = async ({ child, log }: Started) => {
      // Its signal handlers are in place once it logs "store ready", after "node listening".
      while (!log.join("").includes('"store ready"')) await new Promise((resolve) => setTimeout(resolve, 20));
      const exited = exitOf(child);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    };
    // The node inherits this umask: a file or folder made without a mode of
    // its own would be 0644 or 0755, or looser.
    const umask = process.umask(0);
    const children: ChildProcess[] = [];
    const startHere = async () => {
      const started = await start(cwd, ["--db", "data/nested/node.db"]);
      children.push(started.child);
      return started;
    };
    try {
      const first = await startHere();
      process.umask(umask);
      const folder = join(cwd, "data/nested");
      assert.equal(mode(join(cwd, "data")), "700");
      assert.equal(mode(folder), "700");
      const files = readdirSync(folder);
      assert.ok(files.includes("node.db-wal") && files.includes("node.db-shm"), `side files: ${files.join(", ")}`);
      for (const file of files) assert.equal(mode(join(folder, file)), "600", file);
      await stop(first);

      chmodSync(join(folder, "node.db"), 0o644);
      const second = await startHere();
      try {
        for (const file of readdirSync(folder)) assert.equal(mode(join(folder, file)), "600", file);
      } finally {
        await stop(second);
      }
    } finally {
      process.umask(umask);
      // A failed assertion leaves no node running behind it.
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("refuses a bad flag with exit code 2 and the usage", async () => {
    const child = spawn(process.execPath, [bin, "node", "start", "--port", "nope"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    assert.equal(await exitOf(child), 2);
    assert.match(stderr, /bad port/);
    assert.match(stderr, /Usage: parley node start/);
  });
});
