// key-schedule.json (RFC 9420 8): epoch-by-epoch secrets, the external
// key pair and the exporter.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { engine } from "../../src/engine/ts-mls.js";
const { encode } = engine;
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import { groupContextEncoder, initializeEpoch, mlsExporter, type GroupContext } from "./ts-mls-internals.js";
import { hex, loadVectors, notSuite3, report, SUITE_3, toHex } from "./vectors.test-util.js";

interface Epoch {
  tree_hash: string; commit_secret: string; psk_secret: string; confirmed_transcript_hash: string; group_context: string;
  joiner_secret: string; welcome_secret: string; init_secret: string; sender_data_secret: string; encryption_secret: string;
  exporter_secret: string; epoch_authenticator: string; external_secret: string; confirmation_key: string;
  membership_key: string; resumption_psk: string; external_pub: string;
  exporter: { label: string; context: string; length: number; secret: string };
}
interface Case { cipher_suite: number; group_id: string; initial_init_secret: string; epochs: Epoch[] }

const v = loadVectors<Case>("key-schedule.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("key-schedule.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i} (${c.epochs.length} epochs)`, async () => {
        const cs = nodeCiphersuite(c.cipher_suite);
        let initSecret = hex(c.initial_init_secret);
        for (const [n, e] of c.epochs.entries()) {
          const gc: GroupContext = {
            version: 1,
            cipherSuite: c.cipher_suite,
            groupId: hex(c.group_id),
            epoch: BigInt(n),
            treeHash: hex(e.tree_hash),
            confirmedTranscriptHash: hex(e.confirmed_transcript_hash),
            extensions: [],
          };
          assert.equal(toHex(encode(groupContextEncoder, gc)), e.group_context);
          const r = await initializeEpoch(initSecret, hex(e.commit_secret), gc, hex(e.psk_secret), cs.kdf);
          const ks = r.keySchedule;
          assert.equal(toHex(r.joinerSecret), e.joiner_secret);
          assert.equal(toHex(r.welcomeSecret), e.welcome_secret);
          assert.equal(toHex(r.encryptionSecret), e.encryption_secret);
          assert.equal(toHex(ks.initSecret), e.init_secret);
          assert.equal(toHex(ks.senderDataSecret), e.sender_data_secret);
          assert.equal(toHex(ks.exporterSecret), e.exporter_secret);
          assert.equal(toHex(ks.externalSecret), e.external_secret);
          assert.equal(toHex(ks.confirmationKey), e.confirmation_key);
          assert.equal(toHex(ks.membershipKey), e.membership_key);
          assert.equal(toHex(ks.resumptionPsk), e.resumption_psk);
          assert.equal(toHex(ks.epochAuthenticator), e.epoch_authenticator);
          const { publicKey } = await cs.hpke.deriveKeyPair(hex(e.external_secret));
          assert.equal(toHex(await cs.hpke.exportPublicKey(publicKey)), e.external_pub);
          const x = e.exporter;
          assert.equal(toHex(await mlsExporter(ks.exporterSecret, x.label, hex(x.context), x.length, cs)), x.secret);
          initSecret = ks.initSecret;
        }
      });
    });
  });
}
