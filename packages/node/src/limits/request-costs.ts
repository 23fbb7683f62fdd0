// What a call costs in tokens of its client's buckets (rate-limit.ts): the
// one table of costs. xmtp-node-go (../shared/spec/xmtp-node-api.md section
// 5) charges a call 1, a send 1 per message and a stream once at open,
// whatever the bytes or keys. Here costs follow work, and never fall below
// the reference's:
// - a call costs 1 token, taken before any byte of its body is read, and
//   a stream 20: it holds a call, a listener and its reads for as long as
//   it lives, and a client opens a few, where a flood of streams opened
//   and reset at once made the node set up and tear down thousands a
//   second (bench/attack, stream-churn);
// - every 16 KiB of request beyond the first costs 1 more, taken as the
//   bytes arrive, before they are decoded; a publish whose stored bytes
//   (inflated from a compressed body) exceed what arrived pays the
//   difference once decoded;
// - every item beyond the first costs 1 more once decoded: a message sent,
//   a key, inbox, identifier or group looked up, a topic subscribed;
// - a page of group messages or welcomes costs 1 more per 16 KiB of
//   answer beyond the first, taken once the page is measured and before it
//   is read (answerTokens): a request of a few bytes asking for 25 MiB pays
//   for 25 MiB;
// - on the bidirectional Subscribe (XIP-83) every request on the open
//   stream costs 1 per topic it adds, and 1 if it adds none (a ping, a
//   removal).
import { isMessage, toBinary, type DescMethod } from "@bufbuild/protobuf";
import { associations, identityApi, mlsApi } from "@parley/proto";

/** Which of a client's two buckets a call draws from (the reference's PUBLISH and DEFAULT). */
export type CostClass = "publish" | "default";

/** Bytes of request one token pays for; a call's own token pays for its first block. */
export const BYTES_PER_TOKEN = 16 * 1024;

/**
 * The reference's PUBLISH class: everything that writes. The reference
 * leaves BatchPublishCommitLog in DEFAULT; its entries are stored as a
 * message is, so here they are charged as a publish.
 */
const PUBLISH_METHODS = new Set([
  "RegisterInstallation",
  "UploadKeyPackage",
  "PublishIdentityUpdate",
  "SendGroupMessages",
  "SendWelcomeMessages",
  "BatchPublishCommitLog",
]);

export function costClassOf(methodName: string): CostClass {
  return PUBLISH_METHODS.has(methodName) ? "publish" : "default";
}

/** What opening a stream costs, in tokens of the default bucket. */
export const STREAM_OPENING_TOKENS = 20;

/** The tokens a call costs before its body is read: 1, or a stream's. */
export function openingTokens(kind: DescMethod["methodKind"]): number {
  return kind === "unary" ? 1 : STREAM_OPENING_TOKENS;
}

/** Tokens for a request of `bytes`, beyond the block the call's own token covers. */
export function byteTokens(bytes: number): number {
  return Math.max(0, bytes - BYTES_PER_TOKEN) / BYTES_PER_TOKEN;
}

/** Tokens for an answer of `bytes`, beyond the block the call's own token covers. */
export const answerTokens = byteTokens;

/** What one decoded request message asks of the node. */
export interface Work {
  /** Tokens beyond the call's own and its bytes. */
  readonly itemTokens: number;
  /** Bytes it would store (0 where nothing is stored, or where what arrived is a bound). */
  readonly storedBytes: number;
}

const NONE: Work = { itemTokens: 0, storedBytes: 0 };
const items = (count: number, storedBytes = 0): Work => ({ itemTokens: Math.max(0, count - 1), storedBytes });
const sum = <T>(values: readonly T[], size: (value: T) => number) => values.reduce((total, value) => total + size(value), 0);

function welcomeBytes(input: mlsApi.WelcomeMessageInput): number {
  const { version } = input;
  if (version.case === "v1") return version.value.data.length + version.value.hpkePublicKey.length + version.value.welcomeMetadata.length;
  if (version.case === "welcomePointer") return version.value.welcomePointer.length + version.value.hpkePublicKey.length;
  return 0;
}

/**
 * The work of one request message, known by its schema. Request messages
 * of every RPC but Subscribe are their call's only one; each of Subscribe's
 * is charged as it comes.
 */
export function workOf(message: unknown): Work {
  if (isMessage(message, mlsApi.SendGroupMessagesRequestSchema)) {
    const stored = sum(message.messages, (m) => (m.version.case === "v1" ? m.version.value.data.length + m.version.value.senderHmac.length : 0));
    return items(message.messages.length, stored);
  }
  if (isMessage(message, mlsApi.SendWelcomeMessagesRequestSchema)) return items(message.messages.length, sum(message.messages, welcomeBytes));
  if (isMessage(message, mlsApi.UploadKeyPackageRequestSchema) || isMessage(message, mlsApi.RegisterInstallationRequestSchema)) {
    return items(1, message.keyPackage?.keyPackageTlsSerialized.length ?? 0);
  }
  if (isMessage(message, mlsApi.BatchPublishCommitLogRequestSchema)) {
    return items(message.requests.length, sum(message.requests, (r) => r.serializedCommitLogEntry.length));
  }
  if (isMessage(message, identityApi.PublishIdentityUpdateRequestSchema)) {
    return items(1, message.identityUpdate === undefined ? 0 : toBinary(associations.IdentityUpdateSchema, message.identityUpdate).length);
  }
  if (isMessage(message, mlsApi.FetchKeyPackagesRequestSchema)) return items(message.installationKeys.length);
  if (isMessage(message, mlsApi.GetNewestGroupMessageRequestSchema)) return items(message.groupIds.length);
  if (isMessage(message, mlsApi.BatchQueryCommitLogRequestSchema)) return items(message.requests.length);
  if (isMessage(message, mlsApi.SubscribeGroupMessagesRequestSchema)) return items(message.filters.length);
  if (isMessage(message, mlsApi.SubscribeWelcomeMessagesRequestSchema)) return items(message.filters.length);
  if (isMessage(message, identityApi.GetIdentityUpdatesRequestSchema)) return items(message.requests.length);
  if (isMessage(message, identityApi.GetInboxIdsRequestSchema)) return items(message.requests.length);
  if (isMessage(message, identityApi.VerifySmartContractWalletSignaturesRequestSchema)) return items(message.signatures.length);
  if (isMessage(message, mlsApi.SubscribeRequestSchema)) {
    const request = message.version.value?.request;
    const adds = request?.case === "mutate" ? request.value.adds.length : 0;
    return { itemTokens: Math.max(1, adds), storedBytes: 0 };
  }
  // Queries of one topic and health.
  return NONE;
}
