// messages.json (RFC 9420 6, 7, 10, 12): every message type decodes and
// re-encodes to the same bytes; the framed ones also go through our own
// entry points (parseFraming, key package and Welcome decoding).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Decoder, Encoder } from "ts-mls";
import { engine } from "../../src/engine/ts-mls.js";
const { encode, mlsMessageDecoder, mlsMessageEncoder } = engine;
import { parseFraming } from "../../src/framing.js";
import { decodeWelcome } from "../../src/group/join.js";
import { decodeKeyPackage } from "../../src/key-package.js";
import {
  addDecoder, addEncoder, commitDecoder, commitEncoder, externalInitDecoder, externalInitEncoder,
  groupContextExtensionsDecoder, groupContextExtensionsEncoder, groupSecretsDecoder, groupSecretsEncoder,
  pskDecoder, pskEncoder, ratchetTreeDecoder, ratchetTreeEncoder, reinitDecoder, reinitEncoder,
  removeDecoder, removeEncoder, updateDecoder, updateEncoder,
} from "./ts-mls-internals.js";
import { hex, loadVectors, report, toHex } from "./vectors.test-util.js";

type Case = Record<string, string>;

function roundTrip<T>(name: string, bytes: string, dec: Decoder<T>, enc: Encoder<T>): void {
  const input = hex(bytes);
  const decoded = dec(input, 0);
  assert.ok(decoded, `${name} decodes`);
  assert.equal(decoded[1], input.length, `${name} uses every byte`);
  assert.equal(toHex(encode(enc, decoded[0])), bytes, `${name} re-encodes`);
}

const MLS_MESSAGES: [string, number][] = [
  ["mls_welcome", 3], ["mls_group_info", 4], ["mls_key_package", 5],
  ["public_message_application", 1], ["public_message_proposal", 1], ["public_message_commit", 1], ["private_message", 2],
];

const v = loadVectors<Case>("messages.json");
if (v !== undefined) {
  report(v.file, v.cases.length, v.cases.length, "");
  describe("messages.json", () => {
    v.cases.forEach((c, i) => {
      it(`case ${i}`, () => {
        for (const [field, wire] of MLS_MESSAGES) {
          const m = mlsMessageDecoder(hex(c[field]!), 0)?.[0];
          assert.equal(m?.wireformat, wire, field);
          roundTrip(field, c[field]!, mlsMessageDecoder, mlsMessageEncoder);
        }
        roundTrip("ratchet_tree", c.ratchet_tree!, ratchetTreeDecoder, ratchetTreeEncoder);
        roundTrip("group_secrets", c.group_secrets!, groupSecretsDecoder, groupSecretsEncoder);
        roundTrip("add_proposal", c.add_proposal!, addDecoder, addEncoder);
        roundTrip("update_proposal", c.update_proposal!, updateDecoder, updateEncoder);
        roundTrip("remove_proposal", c.remove_proposal!, removeDecoder, removeEncoder);
        roundTrip("pre_shared_key_proposal", c.pre_shared_key_proposal!, pskDecoder, pskEncoder);
        roundTrip("re_init_proposal", c.re_init_proposal!, reinitDecoder, reinitEncoder);
        roundTrip("external_init_proposal", c.external_init_proposal!, externalInitDecoder, externalInitEncoder);
        roundTrip("group_context_extensions_proposal", c.group_context_extensions_proposal!, groupContextExtensionsDecoder, groupContextExtensionsEncoder);
        roundTrip("commit", c.commit!, commitDecoder, commitEncoder);

        // Our entry points on the same bytes.
        assert.equal(parseFraming(hex(c.private_message!)).wireFormat, "private");
        assert.equal(parseFraming(hex(c.public_message_commit!)).contentType, "commit");
        assert.equal(parseFraming(hex(c.public_message_proposal!)).contentType, "proposal");
        assert.throws(() => parseFraming(hex(c.mls_welcome!)), { code: "mls.unexpected_wire_format" });
        assert.ok(decodeKeyPackage(hex(c.mls_key_package!)));
        assert.ok(decodeWelcome(hex(c.mls_welcome!)));
      });
    });
  });
}
