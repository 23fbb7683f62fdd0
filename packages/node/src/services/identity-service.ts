// xmtp.identity.api.v1.IdentityApi (../shared/spec/xmtp-node-api.md section 2).
// A publish replays the inbox's whole log with the new update through the
// validator, under a per-inbox lock, and appends only if the log has not
// moved meanwhile (another process may share the store).
// Decisions: GetInboxIds echoes the identifier kind it was asked about (the
// reference leaves it 0); smart-contract-wallet signatures are answered by a
// pluggable verifier, and without one each is reported invalid with a reason.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { associations, decode, encode, identityApi, isInboxId, type InboxId } from "@parley/proto";
import { invalidArgument, NodeError } from "../node-error.js";
import type { IdentityUpdateRecord, Store } from "../store/store.js";
import { callMemoryKey } from "../limits/memory-in-flight.js";
import { AnswerBudget } from "./answer-budget.js";
import type { Validators } from "../validation/validators.js";
import { KeyedMutex } from "./keyed-mutex.js";
import type { RequestLimits } from "./limits.js";

export interface SmartContractWalletVerifier {
  verify(
    request: identityApi.VerifySmartContractWalletSignatureRequestSignature,
  ): Promise<{ isValid: boolean; blockNumber?: bigint; error?: string }>;
}

export interface IdentityServiceDeps {
  readonly store: Store;
  readonly validators: Validators;
  readonly limits: RequestLimits;
  readonly scwVerifier?: SmartContractWalletVerifier;
}

const PUBLISH_ATTEMPTS = 3;

export function createIdentityService(deps: IdentityServiceDeps): ServiceImpl<typeof identityApi.IdentityApi> {
  const { store, validators, limits } = deps;
  const inboxLocks = new KeyedMutex();

  async function publish(inboxId: InboxId, update: Uint8Array): Promise<void> {
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
      const log = await store.identityUpdates(inboxId, 0n);
      if (log.length >= limits.maxInboxUpdates) {
        throw new NodeError("node.inbox_log_full", `inbox log is full (${limits.maxInboxUpdates} updates)`);
      }
      const facts = await validators.identityUpdate(inboxId, log, update);
      const result = await store.appendIdentityUpdate({
        inboxId,
        update,
        expectedLastSequenceId: log.at(-1)?.sequenceId ?? 0n,
        maxUpdates: limits.maxInboxUpdates,
        addressesAdded: facts.addressesAdded,
        addressesRemoved: facts.addressesRemoved,
      });
      if (result.status === "appended") {
        facts.stored?.(result.record.sequenceId);
        return;
      }
      if (result.status === "full") {
        throw new NodeError("node.inbox_log_full", `inbox log is full (${limits.maxInboxUpdates} updates)`);
      }
    }
    throw new NodeError("node.conflict", "the inbox changed while the update was validated; retry");
  }

  return {
    async publishIdentityUpdate(request) {
      const update = request.identityUpdate;
      if (!update) throw invalidArgument("no identity update");
      const { inboxId } = update;
      if (!isInboxId(inboxId)) throw invalidArgument("inbox_id must be 64 lowercase hex digits");
      const bytes = encode(associations.IdentityUpdateSchema, update);
      if (bytes.length > limits.maxIdentityUpdateBytes) throw invalidArgument("identity update is too large");
      await inboxLocks.run(inboxId, () => publish(inboxId, bytes));
      return create(identityApi.PublishIdentityUpdateResponseSchema);
    },

    async getIdentityUpdates(request, context) {
      if (request.requests.length > limits.maxLookups) throw invalidArgument("too many inboxes");
      const responses = [];
      const budget = new AnswerBudget(limits.maxAnswerBytes);
      // One read per distinct query: an inbox asked for many times is read once.
      const reads = new Map<string, Promise<IdentityUpdateRecord[]>>();
      for (const query of request.requests) {
        const key = `${query.inboxId}/${query.sequenceId}`;
        let read = reads.get(key);
        if (read === undefined) {
          read = store.identityUpdates(query.inboxId, query.sequenceId);
          reads.set(key, read);
        }
        const records = await read;
        for (const record of records) budget.require(record.update.length, "GetIdentityUpdates");
        responses.push({
          inboxId: query.inboxId,
          updates: records.map((record) => ({
            sequenceId: record.sequenceId,
            serverTimestampNs: record.serverTimestampNs,
            // Stored only after it decoded and validated.
            update: decode(associations.IdentityUpdateSchema, record.update),
          })),
        });
      }
      await context.values.get(callMemoryKey)?.reserve(budget.spent, "answer");
      return create(identityApi.GetIdentityUpdatesResponseSchema, { responses });
    },

    async getInboxIds(request) {
      if (request.requests.length > limits.maxLookups) throw invalidArgument("too many identifiers");
      const inboxIds = await store.inboxIdsOf(request.requests.map((r) => r.identifier));
      return create(identityApi.GetInboxIdsResponseSchema, {
        responses: request.requests.map((query, index) => {
          const inboxId = inboxIds[index];
          return {
            identifier: query.identifier,
            identifierKind: query.identifierKind,
            ...(inboxId === undefined ? {} : { inboxId }),
          };
        }),
      });
    },

    async verifySmartContractWalletSignatures(request) {
      if (request.signatures.length > limits.maxLookups) throw invalidArgument("too many signatures");
      const verifier = deps.scwVerifier;
      const responses = [];
      for (const signature of request.signatures) {
        if (!verifier) {
          responses.push({ isValid: false, error: "this node has no smart contract wallet verifier" });
          continue;
        }
        const verdict = await verifier.verify(signature);
        responses.push({
          isValid: verdict.isValid,
          ...(verdict.blockNumber === undefined ? {} : { blockNumber: verdict.blockNumber }),
          ...(verdict.error === undefined ? {} : { error: verdict.error }),
        });
      }
      return create(identityApi.VerifySmartContractWalletSignaturesResponseSchema, { responses });
    },
  };
}
