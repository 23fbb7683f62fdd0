// xmtp.mls.api.v1.MlsApi (../shared/spec/xmtp-node-api.md section 1).
// Decisions where the reference node has a [quirk]:
// - a SendGroupMessages or SendWelcomeMessages request is all or nothing:
//   every message is validated first, then all are stored in one transaction;
// - an empty group id or installation key is INVALID_ARGUMENT, not UNKNOWN;
// - FetchKeyPackages fills every slot of a key asked for twice;
// - the bidirectional Subscribe (XIP-83) is served: subscribe-stream.ts.
import { create } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { associations, decode, encode, messageContents, mlsApi } from "@parley/proto";
import { callMemoryKey } from "../limits/memory-in-flight.js";
import { chargeKey } from "../limits/rate-limit.js";
import { answerTokens } from "../limits/request-costs.js";
import { invalidArgument, NodeError } from "../node-error.js";
import type { GroupMessageRecord, NewGroupMessage, NewWelcome, Store } from "../store/store.js";
import type { StreamLimits } from "../streams/backlog.js";
import { eitherSignal } from "../streams/either-signal.js";
import { followTopics, type ReadAfter } from "../streams/follow-topics.js";
import { topicKey, type Notifier, type TopicKind } from "../streams/notifier.js";
import type { Validators } from "../validation/validators.js";
import { MAX_COMMIT_LOG_PUBLISH, MAX_COMMIT_LOG_QUERIES, type RequestLimits } from "./limits.js";
import { AnswerBudget, pageWithinBudget, readTopicWithin } from "./answer-budget.js";
import { MAX_PAGE, pageOf, pagingInfoOf } from "./paging.js";
import { subscribeStream } from "./subscribe-stream.js";
import { groupMessageOf, welcomeMessageOf } from "./wire-records.js";

export interface MlsServiceDeps {
  readonly store: Store;
  readonly validators: Validators;
  readonly notifier: Notifier;
  readonly limits: RequestLimits;
  readonly streamLimits: StreamLimits;
  /** Aborted when the node shuts down: streams end. */
  readonly shutdown: AbortSignal;
}

function requireBatch(length: number, max: number, what: string): void {
  if (length === 0) throw invalidArgument(`no ${what}`);
  if (length > max) throw invalidArgument(`${length} ${what} exceed the limit of ${max}`);
}

function requireBytes(value: Uint8Array, what: string, max?: number): void {
  if (value.length === 0) throw invalidArgument(`${what} is empty`);
  if (max !== undefined && value.length > max) {
    throw invalidArgument(`${what} of ${value.length} bytes exceeds the limit of ${max}`);
  }
}

const groupMessageBytes = (r: GroupMessageRecord) => r.data.length + r.senderHmac.length;

/**
 * Ends a stream on client cancel or node shutdown, whichever comes first.
 * Connect-ES aborts `context.signal` when a call ends, however it ends, so
 * nothing stays on the shutdown signal.
 */
function streamSignal(context: HandlerContext, shutdown: AbortSignal): AbortSignal {
  return eitherSignal(context.signal, shutdown);
}

function newWelcome(input: mlsApi.WelcomeMessageInput, maxBytes: number): NewWelcome {
  const { version } = input;
  if (version.case === "v1") {
    const v1 = version.value;
    requireBytes(v1.installationKey, "installation_key");
    requireBytes(v1.data, "data", maxBytes);
    const symmetric = v1.wrapperAlgorithm === messageContents.WelcomeWrapperAlgorithm.SYMMETRIC_KEY;
    if (!symmetric) requireBytes(v1.hpkePublicKey, "hpke_public_key");
    if (v1.welcomeMetadata.length > maxBytes) throw invalidArgument("welcome_metadata is too large");
    return {
      kind: "v1",
      installationKey: v1.installationKey,
      data: v1.data,
      hpkePublicKey: v1.hpkePublicKey,
      // Older clients leave it unset and mean Curve25519.
      wrapperAlgorithm:
        v1.wrapperAlgorithm === messageContents.WelcomeWrapperAlgorithm.UNSPECIFIED
          ? messageContents.WelcomeWrapperAlgorithm.CURVE25519
          : v1.wrapperAlgorithm,
      welcomeMetadata: v1.welcomeMetadata,
    };
  }
  if (version.case === "welcomePointer") {
    const pointer = version.value;
    requireBytes(pointer.installationKey, "installation_key");
    requireBytes(pointer.welcomePointer, "welcome_pointer", maxBytes);
    requireBytes(pointer.hpkePublicKey, "hpke_public_key");
    if (pointer.wrapperAlgorithm !== messageContents.WelcomePointerWrapperAlgorithm.XWING_MLKEM_768_DRAFT_6) {
      throw invalidArgument("a welcome pointer must be wrapped with XWING_MLKEM_768_DRAFT_6");
    }
    return {
      kind: "pointer",
      installationKey: pointer.installationKey,
      data: pointer.welcomePointer,
      hpkePublicKey: pointer.hpkePublicKey,
      wrapperAlgorithm: pointer.wrapperAlgorithm,
      welcomeMetadata: new Uint8Array(),
    };
  }
  throw invalidArgument("welcome message has no version");
}

export function createMlsService(deps: MlsServiceDeps): ServiceImpl<typeof mlsApi.MlsApi> {
  const { store, validators, notifier, limits } = deps;

  /** A server stream of every record of the filters' topics after their cursors. */
  async function* follow<R extends { readonly id: bigint; readonly data: Uint8Array }, M>(
    kind: TopicKind,
    filters: readonly { id: Uint8Array; cursor: bigint }[],
    read: ReadAfter<Uint8Array, R>,
    context: HandlerContext,
    toMessage: (record: R) => M,
  ): AsyncGenerator<M> {
    requireBatch(filters.length, limits.maxLookups, "filters");
    const topics = filters.map(({ id, cursor }) => {
      requireBytes(id, `${kind} filter key`);
      return { key: topicKey(kind, id), id, cursor };
    });
    for await (const record of followTopics(topics, read, notifier, streamSignal(context, deps.shutdown), deps.streamLimits)) {
      yield toMessage(record);
    }
  }

  async function uploadKeyPackage(upload: mlsApi.KeyPackageUpload | undefined): Promise<Uint8Array> {
    if (!upload) throw invalidArgument("no key package");
    requireBytes(upload.keyPackageTlsSerialized, "key_package_tls_serialized", limits.maxKeyPackageBytes);
    const facts = await validators.keyPackage(upload.keyPackageTlsSerialized);
    if (!(await store.putKeyPackage(facts.installationKey, upload.keyPackageTlsSerialized, facts.notBefore))) {
      throw new NodeError("node.stale_key_package", "the installation has a newer key package");
    }
    return facts.installationKey;
  }

  return {
    async sendGroupMessages(request) {
      requireBatch(request.messages.length, limits.maxBatch, "messages");
      const messages: NewGroupMessage[] = request.messages.map((input, index) => {
        if (input.version.case !== "v1") throw invalidArgument(`message ${index} has no version`);
        const { data, senderHmac, shouldPush } = input.version.value;
        requireBytes(data, `message ${index}`, limits.maxPayloadBytes);
        const facts = validators.groupMessage(data);
        return { groupId: facts.groupId, data, senderHmac, shouldPush, isCommit: facts.isCommit };
      });
      const records = await store.appendGroupMessages(messages);
      notifier.notify(records.map((r) => ({ key: topicKey("group", r.groupId), bytes: r.data.length })));
      return create(EmptySchema);
    },

    async sendWelcomeMessages(request) {
      requireBatch(request.messages.length, limits.maxBatch, "welcome messages");
      const welcomes = request.messages.map((input) => newWelcome(input, limits.maxPayloadBytes));
      const records = await store.appendWelcomes(welcomes);
      notifier.notify(records.map((r) => ({ key: topicKey("welcome", r.installationKey), bytes: r.data.length })));
      return create(EmptySchema);
    },

    async registerInstallation(request) {
      const installationKey = await uploadKeyPackage(request.keyPackage);
      return create(mlsApi.RegisterInstallationResponseSchema, { installationKey });
    },

    async uploadKeyPackage(request) {
      await uploadKeyPackage(request.keyPackage);
      return create(EmptySchema);
    },

    async fetchKeyPackages(request, context) {
      requireBatch(request.installationKeys.length, limits.maxLookups, "installation keys");
      // Each distinct key is looked up once; every slot is still filled (the reference's answer shape).
      const distinct = [...new Map(request.installationKeys.map((k) => [Buffer.from(k).toString("hex"), k])).values()];
      const found = await store.fetchKeyPackages(distinct);
      const byKey = new Map(distinct.map((k, i) => [Buffer.from(k).toString("hex"), found[i]]));
      const budget = new AnswerBudget(limits.maxAnswerBytes);
      const keyPackages = request.installationKeys.map((k) => {
        const keyPackage = byKey.get(Buffer.from(k).toString("hex")) ?? new Uint8Array();
        budget.require(keyPackage.length, "FetchKeyPackages");
        return { keyPackageTlsSerialized: keyPackage };
      });
      await context.values.get(callMemoryKey)?.reserve(budget.spent, "answer");
      return create(mlsApi.FetchKeyPackagesResponseSchema, { keyPackages });
    },

    revokeInstallation() {
      throw new NodeError("node.unimplemented", "revoke an installation with an identity update instead");
    },

    getIdentityUpdates() {
      throw new NodeError("node.unimplemented", "use xmtp.identity.api.v1.IdentityApi/GetIdentityUpdates");
    },

    async queryGroupMessages(request, context) {
      requireBytes(request.groupId, "group_id");
      const page = pageOf(request.pagingInfo);
      const fit = pageWithinBudget(page, await store.groupMessageSizes(request.groupId, page), limits.maxAnswerBytes);
      context.values.get(chargeKey)(answerTokens(fit.bytes), `an answer of ${fit.bytes} bytes`);
      await context.values.get(callMemoryKey)?.reserve(fit.bytes, "answer");
      const records = fit.page === undefined ? [] : await store.queryGroupMessages(request.groupId, fit.page);
      return create(mlsApi.QueryGroupMessagesResponseSchema, {
        messages: records.map((r) => groupMessageOf(r)),
        pagingInfo: pagingInfoOf(page, records.map((r) => r.id), fit.cut),
      });
    },

    async queryWelcomeMessages(request, context) {
      requireBytes(request.installationKey, "installation_key");
      const page = pageOf(request.pagingInfo);
      const fit = pageWithinBudget(page, await store.welcomeSizes(request.installationKey, page), limits.maxAnswerBytes);
      context.values.get(chargeKey)(answerTokens(fit.bytes), `an answer of ${fit.bytes} bytes`);
      await context.values.get(callMemoryKey)?.reserve(fit.bytes, "answer");
      const records = fit.page === undefined ? [] : await store.queryWelcomes(request.installationKey, fit.page);
      return create(mlsApi.QueryWelcomeMessagesResponseSchema, {
        messages: records.map(welcomeMessageOf),
        pagingInfo: pagingInfoOf(page, records.map((r) => r.id), fit.cut),
      });
    },

    subscribeGroupMessages(request, context) {
      const filters = request.filters.map((f) => ({ id: f.groupId, cursor: f.idCursor }));
      const read = (groupId: Uint8Array, cursor: bigint, limit: number) =>
        readTopicWithin(store, "group", groupId, { direction: "ascending", limit, cursor }, deps.streamLimits.maxFrameBytes);
      return follow("group", filters, read, context, (record) => groupMessageOf(record));
    },

    subscribeWelcomeMessages(request, context) {
      const filters = request.filters.map((f) => ({ id: f.installationKey, cursor: f.idCursor }));
      const read = (key: Uint8Array, cursor: bigint, limit: number) =>
        readTopicWithin(store, "welcome", key, { direction: "ascending", limit, cursor }, deps.streamLimits.maxFrameBytes);
      return follow("welcome", filters, read, context, welcomeMessageOf);
    },

    subscribe(requests, context) {
      return subscribeStream(requests, streamSignal(context, deps.shutdown), deps);
    },

    async batchPublishCommitLog(request) {
      requireBatch(request.requests.length, MAX_COMMIT_LOG_PUBLISH, "commit log entries");
      const entries = request.requests.map((entry, index) => {
        requireBytes(entry.groupId, `entry ${index} group_id`);
        requireBytes(entry.serializedCommitLogEntry, `entry ${index}`, limits.maxCommitLogEntryBytes);
        if (!entry.signature) throw invalidArgument(`entry ${index} has no signature`);
        return {
          groupId: entry.groupId,
          entry: entry.serializedCommitLogEntry,
          signature: encode(associations.RecoverableEd25519SignatureSchema, entry.signature),
        };
      });
      await store.appendCommitLog(entries);
      return create(EmptySchema);
    },

    async batchQueryCommitLog(request, context) {
      requireBatch(request.requests.length, MAX_COMMIT_LOG_QUERIES, "commit log queries");
      // One budget for every query of the call: a page stops where it runs
      // out (with its first entry, and a cursor that leads on).
      const budget = new AnswerBudget(limits.maxAnswerBytes);
      const responses = [];
      for (const query of request.requests) {
        requireBytes(query.groupId, "group_id");
        if (query.pagingInfo?.direction === mlsApi.SortDirection.DESCENDING) {
          throw invalidArgument("the commit log pages ascending only");
        }
        const limit = query.pagingInfo?.limit ?? 0;
        const page = {
          direction: "ascending" as const,
          limit: limit === 0 || limit > MAX_PAGE ? MAX_PAGE : limit,
          cursor: query.pagingInfo?.idCursor ?? 0n,
        };
        const all = await store.queryCommitLog(query.groupId, page);
        const records = [];
        for (const record of all) {
          if (!budget.take(record.entry.length + record.signature.length) && records.length > 0) break;
          records.push(record);
        }
        responses.push({
          groupId: query.groupId,
          commitLogEntries: records.map((r) => ({
            sequenceId: r.id,
            serializedCommitLogEntry: r.entry,
            // Stored by this node from a decoded message, so it decodes.
            signature: decode(associations.RecoverableEd25519SignatureSchema, r.signature),
          })),
          pagingInfo: pagingInfoOf(page, records.map((r) => r.id), records.length < all.length),
        });
      }
      await context.values.get(callMemoryKey)?.reserve(budget.spent, "answer");
      return create(mlsApi.BatchQueryCommitLogResponseSchema, { responses });
    },

    async getNewestGroupMessage(request, context) {
      requireBatch(request.groupIds.length, limits.maxLookups, "group ids");
      // Each distinct group is read once; with content, the answer is held to the byte limit.
      const distinct = [...new Map(request.groupIds.map((id) => [Buffer.from(id).toString("hex"), id])).values()];
      const newest = await store.newestGroupMessages(distinct);
      const byGroup = new Map(distinct.map((id, i) => [Buffer.from(id).toString("hex"), newest[i]]));
      const budget = new AnswerBudget(limits.maxAnswerBytes);
      const responses = request.groupIds.map((id) => {
        const record = byGroup.get(Buffer.from(id).toString("hex"));
        if (!record) return {};
        if (request.includeContent) budget.require(groupMessageBytes(record), "GetNewestGroupMessage");
        return { groupMessage: groupMessageOf(record, request.includeContent) };
      });
      await context.values.get(callMemoryKey)?.reserve(budget.spent, "answer");
      return create(mlsApi.GetNewestGroupMessageResponseSchema, { responses });
    },
  };
}
