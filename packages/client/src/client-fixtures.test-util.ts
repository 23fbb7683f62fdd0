// What the client's attack tests share: a node and a folder for a suite, a
// logger that records what was refused, publishing forged bytes straight to
// the node, and reading a member's stored state, installation key and raw
// database files as a thief of the device would.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { decodeGroupState, type GroupState } from "@parley/mls";
import { createInProcessTestNode, type InProcessTestNode } from "@parley/testkit";
import { createApiClient, groupMessageInput, type ApiClient } from "./api/api-client.js";
import type { RefusalCode } from "./index.js";
import type { ClientLogger } from "./logging.js";
import { LocalStore } from "./store/local-store.js";

export interface TestWorld {
  /** The suite's folder, for its clients' databases. */
  readonly dir: string;
  /** A node in this process, from the suite's first test on. */
  readonly node: InProcessTestNode;
  /** The node's API, as a client (or an attacker with the client's wire) calls it. */
  readonly api: ApiClient;
}

/**
 * A node and a folder for the suite it is called in: made before its first
 * test, stopped and removed after its last.
 */
export function testWorld(name: string): TestWorld {
  const dir = mkdtempSync(join(tmpdir(), `parley-${name}-`));
  let running: { node: InProcessTestNode; api: ApiClient } | undefined;
  before(() => {
    const node = createInProcessTestNode();
    running = { node, api: createApiClient(node.clientOptions) };
  });
  after(async () => {
    await running?.node.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = () => {
    assert.ok(running !== undefined, "the world is made before the suite's first test");
    return running;
  };
  return {
    dir,
    get node() {
      return started().node;
    },
    get api() {
      return started().api;
    },
  };
}

export interface LogEntry {
  readonly fields: Record<string, unknown>;
}

/** The system clock plus an offset the test moves forward (ClientOptions.nowNs). */
export function testClock() {
  let offsetNs = 0n;
  return {
    nowNs: () => BigInt(Date.now()) * 1_000_000n + offsetNs,
    advanceSeconds: (s: number) => {
      offsetNs += BigInt(s) * 1_000_000_000n;
    },
  };
}

/** A logger that keeps every entry it is given (warn and debug). */
export function recorder(): ClientLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { entries, warn: (fields) => entries.push({ fields }), debug: (fields) => entries.push({ fields }) };
}

/** The entry logged under `code` for the envelope at `cursor`; fails the test if there is none. */
export function refusedAt(log: { entries: LogEntry[] }, code: RefusalCode, cursor: bigint): LogEntry {
  const entry = log.entries.find((e) => e.fields["code"] === code && e.fields["cursor"] === cursor.toString());
  assert.ok(entry, `${code} logged for envelope ${cursor}; log: ${JSON.stringify(log.entries.map((e) => e.fields))}`);
  return entry;
}

/** The reasons of the welcomes refused so far. */
export const refusedWelcomes = (log: { entries: LogEntry[] }) =>
  log.entries.filter((e) => e.fields["code"] === "refused.welcome").map((e) => e.fields["reason"]);

/** Sends `data` to the group's topic as any caller can; @returns the node's id for it. */
export async function publish(api: ApiClient, groupId: Uint8Array, data: Uint8Array): Promise<bigint> {
  await api.mls.sendGroupMessages({ messages: [groupMessageInput(data, false)] });
  const res = await api.mls.queryGroupMessages({ groupId });
  const ids = res.messages.flatMap((m) => (m.version.case === "v1" ? [m.version.value.id] : []));
  return ids.reduce((a, b) => (a > b ? a : b));
}

/** The group's state as the member's database holds it (opened with its `dbEncryptionKey`, if it has one). */
export function storedGroup(dbPath: string, groupId: Uint8Array, key?: Uint8Array): GroupState {
  const store = new LocalStore(dbPath, key);
  try {
    const row = store.group(groupId);
    assert.ok(row, "the group is in the store");
    return decodeGroupState(row.state);
  } finally {
    store.close();
  }
}

/** The installation's secret key as its database holds it: what a thief of the device signs with. */
export function storedInstallationSecret(dbPath: string): Uint8Array {
  const store = new LocalStore(dbPath);
  try {
    const row = store.installation();
    assert.ok(row, "the installation is in the store");
    return row.installationSecret;
  } finally {
    store.close();
  }
}

/** Every byte of the database and its side files, as a thief copying the device gets them. */
export function databaseBytes(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`, `${dbPath}-journal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

/** Every file in a folder, name and bytes, as a thief copying the device gets them (side files and all). */
export function folderFiles(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))] as const));
}
