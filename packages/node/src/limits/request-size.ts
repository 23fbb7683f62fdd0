// The largest request message each RPC legitimately needs, derived from the
// node's request limits (services/limits.ts). The edge (connect-adapter.ts)
// holds every request to its method's size before it is decoded: a gRPC,
// gRPC-web or Connect envelope whose length prefix says more is refused
// before its payload is read, a Connect unary body by its Content-Length or
// as it is read, and a compressed one as it inflates, at the same size
// (zlib's maxOutputLength stops inflating there: a bomb is never inflated
// whole). Over the size is RESOURCE_EXHAUSTED, as xmtp-node-go's gRPC
// server answers a message past its maximum, before or after decompression
// (../shared/spec/xmtp-node-api.md section 0: one 50 MiB maximum for every
// RPC). A query of one group asks a few dozen bytes; here it can no longer
// make the node read, inflate and parse 50 MiB.
import type { DescMethod } from "@bufbuild/protobuf";
import { MAX_COMMIT_LOG_PUBLISH, MAX_COMMIT_LOG_QUERIES, type RequestLimits } from "../services/limits.js";

/**
 * Room for a request's own fields and framing (tags, lengths, cursors,
 * flags): the whole of a request that names one topic, one service or
 * nothing, and of any method not sized here.
 */
export const FRAMING_BYTES = 1024;
/**
 * One item of a lookup or subscription: an installation key (32 bytes), an
 * inbox id (64 characters), a group id, an identifier (an address, a
 * passkey's key) or a topic, with its cursor and framing. Real ones are far
 * smaller; a longer one is refused or finds nothing anyway.
 */
const ITEM_BYTES = 256;
/** A smart contract wallet signature (ERC-1271 / ERC-6492, with its account id). */
const SIGNATURE_BYTES = 16 * 1024;
/** Signatures in one check: an identity update carries a handful. */
const SIGNATURES = 64;
/** An entry's group id and signature beside the entry itself. */
const COMMIT_LOG_SIGNED_BYTES = 512;

/**
 * The largest request of every RPC the node serves, in bytes. A send may
 * carry the largest payload and as much again in smaller ones (a commit and
 * its welcomes' messages), as the reference's 50 MiB allows; everything
 * else is sized by what it names.
 */
export function requestSizeLimits(limits: RequestLimits): (method: DescMethod) => number {
  const lookups = FRAMING_BYTES + limits.maxLookups * ITEM_BYTES;
  const largest = 2 * limits.maxPayloadBytes + 1024 * 1024;
  const sizes: Record<string, number> = {
    SendGroupMessages: largest,
    SendWelcomeMessages: largest,
    RegisterInstallation: FRAMING_BYTES + limits.maxKeyPackageBytes,
    UploadKeyPackage: FRAMING_BYTES + limits.maxKeyPackageBytes,
    PublishIdentityUpdate: FRAMING_BYTES + limits.maxIdentityUpdateBytes,
    BatchPublishCommitLog: FRAMING_BYTES + MAX_COMMIT_LOG_PUBLISH * (limits.maxCommitLogEntryBytes + COMMIT_LOG_SIGNED_BYTES),
    FetchKeyPackages: lookups,
    GetNewestGroupMessage: lookups,
    GetIdentityUpdates: lookups,
    GetInboxIds: lookups,
    SubscribeGroupMessages: lookups,
    SubscribeWelcomeMessages: lookups,
    // Each request on the stream: one Mutate adds or removes at most this many topics.
    Subscribe: lookups,
    VerifySmartContractWalletSignatures: FRAMING_BYTES + SIGNATURES * SIGNATURE_BYTES,
    BatchQueryCommitLog: FRAMING_BYTES + MAX_COMMIT_LOG_QUERIES * ITEM_BYTES,
  };
  // Everything else names one topic (a query), one service (health), or nothing.
  return (method) => sizes[method.name] ?? FRAMING_BYTES;
}
