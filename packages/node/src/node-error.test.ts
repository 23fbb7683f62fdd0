// Which code a refusal is logged with: the library's that refused, found
// through the node's wrapper and the library's own causes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import { IdentityError } from "@parley/identity";
import { MlsError } from "@parley/mls";
import { ProtoError } from "@parley/proto";
import { errorCodes, invalidArgument, NodeError, refusalCode } from "./node-error.js";

describe("refusalCode", () => {
  const table: [string, unknown, string | undefined, string[]][] = [
    ["the node's own refusal", invalidArgument("no key package"), "node.invalid_argument", ["node.invalid_argument"]],
    [
      "a library's refusal wrapped by the node",
      invalidArgument("invalid key package", new MlsError("mls.bad_key_package", "x")),
      "mls.bad_key_package",
      ["node.invalid_argument", "mls.bad_key_package"],
    ],
    [
      "the outermost library code, its own causes listed after it",
      invalidArgument("invalid identity update", new IdentityError("identity.malformed", "x", { cause: new ProtoError("proto.malformed", "y") })),
      "identity.malformed",
      ["node.invalid_argument", "identity.malformed", "proto.malformed"],
    ],
    [
      "other libraries' errors in the chain skipped",
      new NodeError("node.internal", "x", { cause: new Error("sqlite", { cause: new ProtoError("proto.too_large", "y") }) }),
      "proto.too_large",
      ["node.internal", "proto.too_large"],
    ],
    ["a Connect error", new ConnectError("x"), undefined, []],
    ["not an error", "boom", undefined, []],
  ];
  for (const [name, error, code, codes] of table) {
    it(name, () => {
      assert.equal(refusalCode(error), code);
      assert.deepEqual(errorCodes(error), codes);
    });
  }

  it("stops on a cause chain that loops", () => {
    const a = new NodeError("node.invalid_argument", "a");
    const b = new MlsError("mls.malformed", "b", { cause: a });
    Object.defineProperty(a, "cause", { value: b });
    assert.equal(errorCodes(a).length, 8);
    assert.equal(refusalCode(a), "mls.malformed");
  });
});
