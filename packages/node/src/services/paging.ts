// The paging rules of QueryGroupMessages, QueryWelcomeMessages and
// BatchQueryCommitLog (../shared/spec/xmtp-node-api.md section 1.4):
// descending unless ascending is asked for, a limit of 100 by default and
// at most, an exclusive cursor, and a response cursor that is the last id
// of a full page and 0 otherwise.
import { create } from "@bufbuild/protobuf";
import { mlsApi } from "@parley/proto";
import type { Page } from "../store/store.js";

export const MAX_PAGE = 100;

export function pageOf(paging: mlsApi.PagingInfo | undefined): Page {
  const ascending = paging?.direction === mlsApi.SortDirection.ASCENDING;
  const limit = paging?.limit ?? 0;
  return {
    direction: ascending ? "ascending" : "descending",
    limit: limit === 0 || limit > MAX_PAGE ? MAX_PAGE : limit,
    cursor: paging?.idCursor ?? 0n,
  };
}

/** `cut`: the page stopped before its limit for its byte budget, so more may follow. */
export function pagingInfoOf(page: Page, ids: readonly bigint[], cut = false): mlsApi.PagingInfo {
  return create(mlsApi.PagingInfoSchema, {
    direction: page.direction === "ascending" ? mlsApi.SortDirection.ASCENDING : mlsApi.SortDirection.DESCENDING,
    limit: page.limit,
    idCursor: ids.length === page.limit || cut ? (ids.at(-1) ?? 0n) : 0n,
  });
}
