// Rule 7's version comparison: numeric dot by dot, as libxmtp compares
// semver, with what it cannot read counted as above ours (pause, not apply).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isNewerVersion, PROTOCOL_VERSION } from "./protocol-version.js";

describe("minimum_supported_protocol_version against ours", () => {
  it("compares dot by dot, numerically", () => {
    assert.equal(isNewerVersion("1.10.0", "1.9.1"), true, "10 > 9, not as text");
    assert.equal(isNewerVersion("1.9.2", "1.9.1"), true);
    assert.equal(isNewerVersion("2", "1.9.1"), true);
    assert.equal(isNewerVersion("1.9.1", "1.9.1"), false);
    assert.equal(isNewerVersion("1.9", "1.9.1"), false);
    assert.equal(isNewerVersion("1.8.99", "1.9.1"), false);
    assert.equal(isNewerVersion("1.9.1-rc.1", "1.9.1"), false, "a pre-release tag is read as its core version");
    assert.equal(isNewerVersion(PROTOCOL_VERSION), false);
  });

  it("counts a version it cannot read as above ours", () => {
    for (const v of ["one.two", "1..2", "v1.2.3", "1.2.x"]) assert.equal(isNewerVersion(v, "1.9.1"), true, v);
  });
});
