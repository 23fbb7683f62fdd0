// Every message of the protocol, with every field set, survives an encode
// and decode unchanged, and re-encodes to the same bytes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { equals, type DescMessage } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { allFiles, decode, encode } from "./index.js";
import { sampleMessages } from "./sample-message.test-util.js";

function allMessages(): DescMessage[] {
  return allFiles.flatMap((file) =>
    [...nestedTypes(file)].filter((t): t is DescMessage => t.kind === "message"),
  );
}

describe("round trip of every message", () => {
  const messages = allMessages();

  it("covers the whole protocol", () => {
    // A floor, so that a file dropped from the registry is noticed.
    assert.ok(messages.length >= 140, `only ${messages.length} messages registered`);
  });

  for (const desc of messages) {
    it(desc.typeName, () => {
      for (const sample of sampleMessages(desc)) {
        const bytes = encode(desc, sample);
        if (desc.fields.length > 0) assert.ok(bytes.length > 0, "fields were set, bytes expected");
        const decoded = decode(desc, bytes);
        assert.ok(equals(desc, decoded, sample), "decoded message differs");
        assert.deepEqual(encode(desc, decoded), bytes, "re-encoding changed the bytes");
      }
    });
  }
});
