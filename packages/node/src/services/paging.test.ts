import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { mlsApi } from "@parley/proto";
import { pageOf, pagingInfoOf } from "./paging.js";

const paging = (init: Parameters<typeof create<typeof mlsApi.PagingInfoSchema>>[1]) =>
  create(mlsApi.PagingInfoSchema, init);

describe("paging rules", () => {
  it("defaults to descending, 100, no cursor", () => {
    assert.deepEqual(pageOf(undefined), { direction: "descending", limit: 100, cursor: 0n });
    assert.deepEqual(pageOf(paging({ direction: mlsApi.SortDirection.UNSPECIFIED })).direction, "descending");
  });

  it("caps the limit at 100 and reads 0 as 100", () => {
    assert.equal(pageOf(paging({ limit: 0 })).limit, 100);
    assert.equal(pageOf(paging({ limit: 101 })).limit, 100);
    assert.equal(pageOf(paging({ limit: 7 })).limit, 7);
  });

  it("keeps ascending and the cursor", () => {
    assert.deepEqual(pageOf(paging({ direction: mlsApi.SortDirection.ASCENDING, limit: 5, idCursor: 9n })), {
      direction: "ascending",
      limit: 5,
      cursor: 9n,
    });
  });

  it("answers the last id of a full page, else 0", () => {
    const page = pageOf(paging({ direction: mlsApi.SortDirection.ASCENDING, limit: 2 }));
    assert.equal(pagingInfoOf(page, [4n, 8n]).idCursor, 8n);
    assert.equal(pagingInfoOf(page, [4n]).idCursor, 0n);
    assert.equal(pagingInfoOf(page, [4n, 8n]).direction, mlsApi.SortDirection.ASCENDING);
    assert.equal(pagingInfoOf(page, [4n, 8n]).limit, 2);
  });
});
