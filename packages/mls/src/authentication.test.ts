// The authentication service ts-mls calls for every leaf it accepts: it asks
// the caller about at most MAX_GROUP_INBOXES distinct inboxes, so that a
// tree or commit naming thousands costs at most that many lookups.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { associations, encode } from "@parley/proto";
import { createAuthService, refusedMemberError } from "./authentication.js";
import { MAX_GROUP_INBOXES } from "./xmtp/profile.js";

const credentialOf = (inboxId: string) => ({
  credentialType: 1 as const,
  identity: encode(associations.MlsCredentialSchema, { $typeName: "xmtp.identity.MlsCredential", inboxId, association: { case: undefined } } as never),
});

describe("@parley/mls authentication service", () => {
  it("asks about at most MAX_GROUP_INBOXES inboxes, refuses the rest unasked, and says why", async () => {
    const asked = new Set<string>();
    const auth = createAuthService((member) => {
      asked.add(member.inboxId);
      return true;
    });
    const inboxes = Array.from({ length: MAX_GROUP_INBOXES + 50 }, () => randomBytes(32).toString("hex"));
    const results: boolean[] = [];
    for (const inbox of inboxes) results.push(await auth.validateCredential(credentialOf(inbox), randomBytes(32)));
    // A second installation of an inbox already asked about is still asked.
    results.push(await auth.validateCredential(credentialOf(inboxes[0]!), randomBytes(32)));
    assert.equal(asked.size, MAX_GROUP_INBOXES);
    assert.equal(results.filter(Boolean).length, MAX_GROUP_INBOXES + 1);
    assert.equal(auth.tooManyInboxes, true);
    assert.equal(refusedMemberError(auth, "test", undefined)?.code, "mls.too_many_members");
  });
});
