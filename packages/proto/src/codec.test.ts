// decode() turns any byte string into either a message or a ProtoError:
// never another exception, never a hang.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { associations, decode, encode, isProtoError, mlsApi, ProtoError } from "./index.js";
import { sampleMessages } from "./sample-message.test-util.js";

const schemas = [
  mlsApi.SendGroupMessagesRequestSchema,
  mlsApi.SendWelcomeMessagesRequestSchema,
  mlsApi.UploadKeyPackageRequestSchema,
  mlsApi.QueryGroupMessagesRequestSchema,
  mlsApi.SubscribeRequestSchema,
  associations.IdentityUpdateSchema,
];

function decodesOrProtoError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(isProtoError(error), `unexpected ${String(error)}`);
    assert.ok(["proto.malformed", "proto.too_large"].includes(error.code));
  }
}

describe("decode", () => {
  it("refuses truncated varints and lengths with proto.malformed", () => {
    // Field 1, length-delimited, length 10 but only 1 byte follows.
    const error = (() => {
      try {
        decode(mlsApi.SendGroupMessagesRequestSchema, new Uint8Array([0x0a, 0x0a, 0x01]));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof ProtoError);
    assert.equal(error.code, "proto.malformed");
  });

  it("refuses input over maxBytes before parsing", () => {
    assert.throws(
      () => decode(associations.IdentityUpdateSchema, new Uint8Array(11), { maxBytes: 10 }),
      (e: unknown) => isProtoError(e) && e.code === "proto.too_large",
    );
  });

  it("gives a message or a ProtoError for random bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom(...schemas), fc.uint8Array({ maxLength: 512 }), (schema, bytes) => {
        decodesOrProtoError(() => decode(schema, bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives a message or a ProtoError for mutated valid messages", () => {
    const valid = schemas.map((schema) => ({
      schema,
      bytes: encode(schema, sampleMessages(schema)[0]!),
    }));
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        ({ schema, bytes }, flips, cut) => {
          const mutated = bytes.slice(0, bytes.length - (cut % Math.max(1, bytes.length)));
          for (const [at, value] of flips) {
            if (mutated.length > 0) mutated[at % mutated.length] = value;
          }
          decodesOrProtoError(() => decode(schema, mutated));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
