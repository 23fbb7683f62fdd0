// The lifetime rule of commit-checks.ts through processMessage: an added key
// package is judged at the commit's time given by the caller (the node's
// time of its envelope), whatever this machine's clock says.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeKeyPackage } from "../key-package.js";
import { isMlsError } from "../mls-error.js";
import { allowAll, groupExtensionsFor, installation, membership } from "../scenario.test-util.js";
import { updateMembership } from "./commit.js";
import { createGroup } from "./create-group.js";
import { joinFromWelcome } from "./join.js";
import { processMessage } from "./process-message.js";

async function addCommit() {
  const [alice, bob, carol] = await Promise.all([installation("a"), installation("b"), installation("c")]);
  const a0 = await createGroup({ signer: alice, extensions: groupExtensionsFor(alice.inboxId), authenticate: allowAll });
  const first = await updateMembership(a0, {
    add: [bob.bundle.keyPackage],
    membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n }),
    authenticate: allowAll,
  });
  const b = (
    await joinFromWelcome({ welcome: first.welcome!, keyPackage: bob.bundle.keyPackage, privateKeyPackage: bob.bundle.privateKeyPackage, authenticate: allowAll })
  ).state;
  const second = await updateMembership(first.state, {
    add: [carol.bundle.keyPackage],
    membership: membership({ [alice.inboxId]: 0n, [bob.inboxId]: 1n, [carol.inboxId]: 1n }),
    authenticate: allowAll,
  });
  const { lifetime } = decodeKeyPackage(carol.bundle.keyPackage).leafNode;
  return { b, commit: second.commit, lifetime };
}

const expired = (e: unknown) => isMlsError(e) && e.code === "mls.expired_key_package";

describe("key-package lifetimes of a received commit's Adds (RFC 9420 7.3, 10.1)", () => {
  it("are judged at the commit's time: inside the lifetime it applies, outside it is refused", async () => {
    const { b, commit, lifetime } = await addCommit();
    assert.equal((await processMessage(b, commit, allowAll, { atSeconds: lifetime.notAfter - 1n })).kind, "commit");
    assert.equal((await processMessage(b, commit, allowAll, { atSeconds: lifetime.notBefore + 1n })).kind, "commit");
    await assert.rejects(processMessage(b, commit, allowAll, { atSeconds: lifetime.notAfter + 1n }), expired);
    await assert.rejects(processMessage(b, commit, allowAll, { atSeconds: lifetime.notBefore - 1n }), expired);
  });
});
