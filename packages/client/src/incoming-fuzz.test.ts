// What the client decodes from peers, fed truncated, bit-flipped, random
// and length-lying input (fast-check, fixed seed; PARLEY_FC_SEED to explore):
// the decrypted application payload and its contents, and welcomes through
// a real node and Conversations.sync. Each input gives a result or a typed
// ClientError, never another error, never a hang.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { createPrivateKeySigner } from "@parley/identity";
import { asInboxId, createGroup, updateMembership, validateKeyPackage, wrapWelcome } from "@parley/mls";
import type { RunningNode } from "@parley/node";
import { decode, encode, messageContents, mlsApi } from "@parley/proto";
import { startTestNode } from "@parley/testkit";
import { createApiClient } from "./api/api-client.js";
import { isClientError } from "./client-error.js";
import { decodeIncomingPayload } from "./content/incoming-payload.js";
import { decodeReaction, encodeReaction, ReactionAction, ReactionSchema } from "./content/reaction-codec.js";
import { decodeReply, encodeReply } from "./content/reply-codec.js";
import { decodeContent, encodeEnvelope, encodeText } from "./content/text-codec.js";
import { encodeMembership, newGroupExtensions } from "./conversations/group-metadata.js";
import { Client } from "./index.js";
import { fetchAssociationStates } from "./identity/identity-lookup.js";
import type { ClientLogger } from "./logging.js";
import { LocalStore } from "./store/local-store.js";

const SEED = Number(process.env["PARLEY_FC_SEED"] ?? 20261126);
const RUNS = 400;
const WELCOME_RUNS = 40;
const HANG_MS = 5000;

/** A valid input spoiled one of four ways (as packages/mls/src/fuzz.test.ts). */
function spoiled(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = valid.length;
  return fc.oneof(
    fc.nat({ max: Math.max(0, n - 1) }).map((len) => valid.slice(0, len)),
    fc.tuple(fc.nat({ max: n - 1 }), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => {
      const out = valid.slice();
      out[at]! ^= 1 << bit;
      return out;
    }),
    fc.uint8Array({ minLength: 0, maxLength: 2 * n }),
    fc.tuple(fc.nat({ max: n - 1 }), fc.constantFrom([0x0a, 0xff, 0xff, 0xff, 0x0f], [0x12, 0x7f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).map(
      ([at, header]) => {
        const out = valid.slice();
        out.set(header.slice(0, n - at), at);
        return out;
      },
    ),
  );
}

async function withinTime<T>(what: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([run(), hang]);
  } finally {
    clearTimeout(timer);
  }
}

const reference = "ab".repeat(32);
const samples = [
  encodeText("hello, fuzz"),
  encodeReaction({ reference, referenceInboxId: "cd".repeat(32), action: ReactionAction.Added, content: "👍", schema: ReactionSchema.Unicode }),
  encodeReply(reference, "cd".repeat(32), encodeText("a reply")),
].map((encoded, i) => encodeEnvelope(encode(messageContents.EncodedContentSchema, encoded), `${i}`));

describe("@parley/client: fuzzing what peers send", { timeout: 120_000 }, () => {
  it("a decrypted application payload: the envelope, the content, and every codec that reads it", async () => {
    for (const valid of samples) {
      await fc.assert(
        fc.asyncProperty(spoiled(valid), async (bytes) => {
          await withinTime("decodeIncomingPayload", () => Promise.resolve().then(() => {
            let payload;
            try {
              payload = decodeIncomingPayload(bytes);
            } catch (error) {
              assert.ok(isClientError(error) && error.code === "client.bad_content", `threw ${(error as Error)?.name}`);
              return;
            }
            if (payload === undefined) return;
            // What Group.messages() does with a stored payload: none may throw.
            const encoded = decode(messageContents.EncodedContentSchema, payload.encodedContent);
            decodeReaction(encoded);
            decodeContent(encoded);
            const reply = decodeReply(encoded);
            if (reply !== undefined) {
              decodeReaction(reply.inner);
              decodeContent(reply.inner);
            }
          }));
        }),
        { numRuns: RUNS, seed: SEED },
      );
    }
  });

  describe("welcomes, through the node and Conversations.sync", () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-fuzz-"));
    let node: RunningNode;

    before(async () => {
      node = await startTestNode();
    });

    after(async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("spoiled welcomes (HPKE-wrapped to the real init key, and spoiled wrappers) are refused and logged; the real one still joins", async () => {
      const refused: Record<string, unknown>[] = [];
      const logger: ClientLogger = { warn: (fields) => refused.push(fields) };
      const aliceDb = join(dir, "alice.db");
      const alice = await Client.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url, dbPath: aliceDb });
      const bob = await Client.create(createPrivateKeySigner(randomBytes(32)), { apiUrl: node.url, logger });
      const api = createApiClient({ apiUrl: node.url });
      const kp = (await api.mls.fetchKeyPackages({ installationKeys: [bob.installationIdBytes] })).keyPackages[0]!.keyPackageTlsSerialized;
      const { initKey } = await validateKeyPackage(kp);

      // A real Welcome for Bob, built from Alice's installation key.
      const store = new LocalStore(aliceDb);
      const secret = store.installation()!.installationSecret;
      store.close();
      const state = await createGroup({
        signer: { inboxId: asInboxId(alice.inboxId), privateKey: secret },
        extensions: newGroupExtensions(alice.inboxId, { groupName: "fuzzed" }),
        authenticate: () => true,
      });
      const seqs = await fetchAssociationStates(api, [alice.inboxId, bob.inboxId]);
      const added = await updateMembership(state, {
        add: [kp],
        // Pinned at the real sequence ids: the joiner checks the tree against them.
        membership: encodeMembership(new Map([[alice.inboxId, seqs.get(alice.inboxId)?.sequenceId ?? 0n], [bob.inboxId, seqs.get(bob.inboxId)?.sequenceId ?? 0n]])),
        authenticate: () => true,
      });
      const welcome = added.welcome!;
      const realWrap = wrapWelcome(welcome, initKey, 0n);

      const inputs = (bytes: Uint8Array, wrapped: boolean) => {
        const w = wrapped ? wrapWelcome(bytes, initKey, 0n) : { ...realWrap, data: bytes };
        return create(mlsApi.WelcomeMessageInputSchema, {
          version: { case: "v1", value: { installationKey: bob.installationIdBytes, data: w.data, hpkePublicKey: w.hpkePublicKey, wrapperAlgorithm: w.wrapperAlgorithm, welcomeMetadata: w.welcomeMetadata } },
        });
      };
      // The node refuses empty data itself; everything else reaches Bob.
      const sample = (valid: Uint8Array, seed: number) => fc.sample(spoiled(valid), { numRuns: WELCOME_RUNS, seed }).filter((b) => b.length > 0);
      const spoiledInner = sample(welcome, SEED).map((b) => inputs(b, true));
      const spoiledOuter = sample(realWrap.data, SEED + 1).map((b) => inputs(b, false));
      for (const batch of [spoiledInner, spoiledOuter]) {
        for (let i = 0; i < batch.length; i += 20) await api.mls.sendWelcomeMessages({ messages: batch.slice(i, i + 20) });
      }
      await withinTime("Conversations.sync", () => bob.conversations.sync());
      // A mutation can leave the Welcome valid (a flipped bit in an ignored
      // field); any group joined must then be the real one.
      for (const g of bob.conversations.list()) assert.equal(g.id, Buffer.from(state.groupId).toString("hex"));
      assert.ok(refused.length >= WELCOME_RUNS, `most spoiled welcomes are refused (${refused.length})`);
      for (const fields of refused) assert.equal(fields["code"], "refused.welcome");

      const before = bob.conversations.list().length;
      await api.mls.sendWelcomeMessages({ messages: [inputs(welcome, true)] });
      await bob.conversations.sync();
      assert.equal(bob.conversations.list().length, before === 0 ? 1 : before);
      assert.equal(bob.conversations.listGroups()[0]?.name, "fuzzed");
      alice.close();
      bob.close();
    });
  });
});
