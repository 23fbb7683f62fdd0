// Store records as the protocol's messages.
import { create } from "@bufbuild/protobuf";
import type { messageContents} from "@parley/proto";
import { mlsApi } from "@parley/proto";
import type { GroupMessageRecord, WelcomeRecord } from "../store/store.js";

export function groupMessageOf(record: GroupMessageRecord, includeContent = true): mlsApi.GroupMessage {
  return create(mlsApi.GroupMessageSchema, {
    version: {
      case: "v1",
      value: {
        id: record.id,
        createdNs: record.createdNs,
        groupId: record.groupId,
        isCommit: record.isCommit,
        ...(includeContent
          ? { data: record.data, senderHmac: record.senderHmac, shouldPush: record.shouldPush }
          : {}),
      },
    },
  });
}

export function welcomeMessageOf(record: WelcomeRecord): mlsApi.WelcomeMessage {
  if (record.kind === "pointer") {
    return create(mlsApi.WelcomeMessageSchema, {
      version: {
        case: "welcomePointer",
        value: {
          id: record.id,
          createdNs: record.createdNs,
          installationKey: record.installationKey,
          welcomePointer: record.data,
          hpkePublicKey: record.hpkePublicKey,
          wrapperAlgorithm: record.wrapperAlgorithm as messageContents.WelcomePointerWrapperAlgorithm,
        },
      },
    });
  }
  return create(mlsApi.WelcomeMessageSchema, {
    version: {
      case: "v1",
      value: {
        id: record.id,
        createdNs: record.createdNs,
        installationKey: record.installationKey,
        data: record.data,
        hpkePublicKey: record.hpkePublicKey,
        wrapperAlgorithm: record.wrapperAlgorithm as messageContents.WelcomeWrapperAlgorithm,
        welcomeMetadata: record.welcomeMetadata,
      },
    },
  });
}
