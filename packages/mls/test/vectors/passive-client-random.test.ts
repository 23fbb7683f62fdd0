// passive-client-random.json: see passive-client.test-util.ts.
import { describe, it } from "node:test";
import { runPassiveClient, type PassiveCase } from "./passive-client.test-util.js";
import { loadVectors, notSuite3, report, SUITE_3 } from "./vectors.test-util.js";

const v = loadVectors<PassiveCase>("passive-client-random.json");
if (v !== undefined) {
  const cases = v.cases.filter((c) => c.cipher_suite === SUITE_3);
  report(v.file, v.cases.length, cases.length, notSuite3);
  describe("passive-client-random.json", () => {
    cases.forEach((c, i) => {
      it(`case ${i} (${c.epochs.length} epochs)`, () => runPassiveClient(c));
    });
  });
}
