// deserialization.json (RFC 9420 2.1.2): variable-length vector headers,
// read by ts-mls and by our own reader in src/tls.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeVarint } from "../../src/tls.js";
import { determineLength } from "./ts-mls-internals.js";
import { hex, loadVectors, report } from "./vectors.test-util.js";

interface Case { vlbytes_header: string; length: number }

const v = loadVectors<Case>("deserialization.json");
if (v !== undefined) {
  report(v.file, v.cases.length, v.cases.length, "");
  describe("deserialization.json", () => {
    v.cases.forEach((c, i) => {
      it(`case ${i} (${c.length})`, () => {
        assert.equal(determineLength(hex(c.vlbytes_header)).length, c.length);
        assert.equal(decodeVarint(hex(c.vlbytes_header), 0)?.[0], c.length);
      });
    });
  });
}
