// One connection's streams are handed over STREAMS_PER_TURN a turn, in
// order, while another connection's first streams go at once.
import assert from "node:assert/strict";
import type http2 from "node:http2";
import { describe, it } from "node:test";
import { StreamPacer, STREAMS_PER_TURN } from "./stream-pacing.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("StreamPacer", () => {
  it("serves a connection's streams STREAMS_PER_TURN a turn, in order, and another connection's at once", async () => {
    const pacer = new StreamPacer();
    // Sessions are only told apart by identity here.
    const flood = {} as http2.Http2Session;
    const other = {} as http2.Http2Session;
    const served: string[] = [];
    const total = STREAMS_PER_TURN * 2 + 3;
    for (let i = 0; i < total; i += 1) pacer.pace(flood, () => served.push(`flood${i}`));
    pacer.pace(other, () => served.push("other"));
    assert.equal(served.length, STREAMS_PER_TURN + 1, "this turn: the flood's share, and the other connection's stream");
    assert.equal(served.at(-1), "other");
    await turn();
    assert.equal(served.length, 2 * STREAMS_PER_TURN + 1);
    await turn();
    assert.equal(served.length, total + 1);
    assert.deepEqual(
      served.filter((s) => s.startsWith("flood")),
      Array.from({ length: total }, (_, i) => `flood${i}`),
      "in the order they came",
    );
  });
});
