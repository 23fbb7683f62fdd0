// @parley/node: the XMTP network node.
export { startNode, type NodeLoad, type NodeOptions, type NodeServiceOptions, type RunningNode } from "./node.js";
export { createInProcessNode, type InProcessNode, type InProcessNodeOptions } from "./in-process.js";
export { SqliteStore, type SqliteStoreOptions } from "./store/sqlite/sqlite-store.js";
export type * from "./store/store.js";
export type { Validators, KeyPackageFacts, GroupMessageFacts, IdentityUpdateFacts } from "./validation/validators.js";
export { NodeError, toConnectError, type NodeErrorCode } from "./node-error.js";
export { defaultRateLimits, type RateLimits } from "./limits/rate-limit.js";
export { defaultConnectionLimits, type ConnectionLimits } from "./limits/connection-limits.js";
export type { SlowClientLimits } from "./limits/slow-clients.js";
export { defaultStreamLimits, type StreamLimits } from "./streams/backlog.js";
export type { BucketLimit } from "./limits/token-buckets.js";
export { defaultRequestLimits, type RequestLimits } from "./services/limits.js";
export type { Retention } from "./store/retention.js";
export { defaultMemoryInFlightLimits, type MemoryInFlightLimits } from "./limits/memory-in-flight.js";
export type { SmartContractWalletVerifier } from "./services/identity-service.js";
export { createLogger, type DestinationStream, type Logger, type LogLevel } from "./logger.js";
export { createXmtpValidators, type XmtpValidatorOptions } from "./validation/xmtp-validators.js";
