// What a step hands back as consumed is exactly what the old state needs and
// the new one does not: once erased, the old state can no longer encrypt,
// decrypt or commit validly, and the new state works on. (The check ts-mls's
// own cleanupConsumed scenario makes, through this package's operations.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";
import { encryptMessage } from "./application.js";
import { selfUpdate, updateMembership } from "./commit.js";
import { eraseConsumed } from "./consumed.js";
import { createGroup } from "./create-group.js";
import type { GroupState } from "./group-state.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function pair(): Promise<{ a: GroupState; b: GroupState }> {
  const [alice, bob] = await Promise.all([installation("a"), installation("b")]);
  const created = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
  const add = await updateMembership(created, {
    add: [bob.bundle.keyPackage],
    membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }),
    authenticate: allowAll,
  });
  const joined = await joinFromWelcome({
    welcome: add.welcome!,
    keyPackage: bob.bundle.keyPackage,
    privateKeyPackage: bob.bundle.privateKeyPackage,
    authenticate: allowAll,
  });
  return { a: add.state, b: joined.state };
}

/** What bob reads of `message`, or the code it is refused with. */
async function read(state: GroupState, message: Uint8Array): Promise<string> {
  try {
    const result = await processMessage(state, message, allowAll);
    return result.kind === "application" ? text(result.plaintext) : result.kind;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe("secrets handed back as consumed", () => {
  it("encrypt: erased, the old state's next message cannot be read; the new state's can", async () => {
    const { a, b } = await pair();
    const first = await encryptMessage(a, utf8("one"));
    assert.ok(first.consumed.length > 0);
    // Before erasure the old state still works: the engine leaves it valid.
    assert.equal(await read(b, (await encryptMessage(a, utf8("again"))).message), "again");
    eraseConsumed(first.consumed);
    assert.ok(first.consumed.every((secret) => secret.every((byte) => byte === 0)));
    assert.equal(await read(b, (await encryptMessage(a, utf8("from the old state"))).message), "mls.decrypt_failed");
    assert.equal(await read(b, (await encryptMessage(first.state, utf8("two"))).message), "two");
  });

  it("process: erased, the old state cannot read the message again; the new state reads on", async () => {
    const { a, b } = await pair();
    const one = await encryptMessage(a, utf8("one"));
    const seen = await processMessage(b, one.message, allowAll);
    assert.ok(seen.kind === "application" && seen.consumed.length > 0);
    assert.equal(await read(b, one.message), "one", "before erasure the old state still reads it");
    eraseConsumed(seen.consumed);
    assert.notEqual(await read(b, one.message), "one");
    const two = await encryptMessage(one.state, utf8("two"));
    assert.equal(await read(seen.state, two.message), "two");
  });

  it("commit: erased, the old epoch's state can no longer make a commit others accept; the new epoch goes on", async () => {
    const { a, b } = await pair();
    const update = await selfUpdate(a, allowAll);
    assert.ok(update.consumed.length > 0);
    const before = await selfUpdate(a, allowAll);
    assert.equal((await processMessage(b, before.commit, allowAll)).kind, "commit", "before erasure the old state commits validly");
    eraseConsumed(update.consumed);
    const after = await selfUpdate(a, allowAll);
    await assert.rejects(processMessage(b, after.commit, allowAll), "a commit from the erased state does not verify");
    const merged = await processMessage(b, update.commit, allowAll);
    assert.ok(merged.kind === "commit");
    const next = await encryptMessage(update.state, utf8("next epoch"));
    assert.equal(await read(merged.state, next.message), "next epoch");
  });
});
