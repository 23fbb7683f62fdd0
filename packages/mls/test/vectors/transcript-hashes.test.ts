// transcript-hashes.json (RFC 9420 8.2): confirmed and interim transcript
// hashes and the confirmation tag.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import { authenticatedContentDecoder, createConfirmedHash, createInterimHash } from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Case {
  cipher_suite: number; confirmation_key: string; authenticated_content: string;
  interim_transcript_hash_before: string; confirmed_transcript_hash_after: string; interim_transcript_hash_after: string;
}

const v = loadVectors<Case>("transcript-hashes.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("transcript-hashes.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i}`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        const decoded = authenticatedContentDecoder(hex(c.authenticated_content), 0);
        assert.ok(decoded);
        const ac = decoded[0];
        assert.ok(ac.content.contentType === 3 && ac.auth.contentType === 3);
        const tag = ac.auth.confirmationTag;
        assert.equal(await cs.hash.verifyMac(hex(c.confirmation_key), tag, hex(c.confirmed_transcript_hash_after)), true);
        const confirmed = await createConfirmedHash(
          hex(c.interim_transcript_hash_before),
          { wireformat: ac.wireformat, content: ac.content, signature: ac.auth.signature },
          cs.hash,
        );
        assert.equal(toHex(confirmed), c.confirmed_transcript_hash_after);
        assert.equal(toHex(await createInterimHash(confirmed, tag, cs.hash)), c.interim_transcript_hash_after);
      });
    });
  });
}
