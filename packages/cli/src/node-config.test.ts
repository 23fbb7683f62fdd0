// `parley node start` options that need no running node: retention.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseNodeConfig, UsageError } from "./node-config.js";

describe("node start options", () => {
  it("keeps everything unless a retention in days is given by flag or variable, the flag first", () => {
    assert.equal(parseNodeConfig([], {}).retentionDays, undefined);
    assert.equal(parseNodeConfig(["--retention-days", "30"], {}).retentionDays, 30);
    assert.equal(parseNodeConfig([], { PARLEY_RETENTION_DAYS: "7.5" }).retentionDays, 7.5);
    assert.equal(parseNodeConfig(["--retention-days", "2"], { PARLEY_RETENTION_DAYS: "7" }).retentionDays, 2);
  });

  it("refuses a retention that is not a positive number of days", () => {
    for (const bad of ["0", "-3", "soon", "Infinity", ""]) {
      assert.throws(() => parseNodeConfig([`--retention-days=${bad}`], {}), UsageError, bad);
    }
  });
});
