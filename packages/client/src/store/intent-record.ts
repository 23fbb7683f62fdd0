// What an intent (../shared/spec/xmtp-client.md section 3.8) keeps so that
// a restart can finish it, as typed, versioned records: the operation (what
// to regenerate on a new epoch: a message, or one of the commits we make)
// and the recipients of the Welcome of the attempt in flight. Each record
// opens with its version byte; a decoder returns the typed value or throws
// `client.bad_store`, never a value it did not check.
//
// Version 1 (after the version byte; lengths and counts are u32, text UTF-8,
// record-codec.ts):
//   operation  := kind:u8 body
//     1 message     encoded_content:bytes idempotency_key:text should_push:bool
//     2 key_update  (nothing)
//     3 membership  add_inboxes:text* remove_inboxes:text*
//     4 metadata    key:text value:text
//     5 admins      change:u8 (1 addAdmin, 2 removeAdmin, 3 addSuperAdmin, 4 removeSuperAdmin) inbox_id:text
//     6 permission  update_type:u8 policy:u8 has_field:bool [metadata_field:u8]
//   recipients := count:u32 (installation_key:bytes(32) init_key:bytes)*
// The permission values are the node bindings' enum values, which the
// official SDK fixes (group-permissions.ts).
import { ClientError } from "../client-error.js";
import type { AdminListChange } from "../conversations/admin-lists.js";
import { MetadataField, PermissionPolicy, PermissionUpdateType } from "../conversations/group-permissions.js";
import { RecordReader, RecordWriter } from "./record-codec.js";

/** Every change we commit, by the operation that regenerates it. */
export type IntentSpec =
  | { readonly kind: "key_update"; readonly params: Record<string, never> }
  | { readonly kind: "membership"; readonly params: { readonly addInboxes?: readonly string[]; readonly removeInboxes?: readonly string[] } }
  | { readonly kind: "metadata"; readonly params: { readonly key: string; readonly value: string } }
  | { readonly kind: "admins"; readonly params: { readonly change: AdminListChange; readonly inboxId: string } }
  | {
      readonly kind: "permission";
      readonly params: { readonly type: PermissionUpdateType; readonly policy: PermissionPolicy; readonly metadataField?: MetadataField };
    };

/** A message of ours: the same content and idempotency key give the same message id if it must be encrypted anew. */
export interface MessageIntent {
  readonly kind: "message";
  readonly params: { readonly encodedContent: Uint8Array; readonly idempotencyKey: string; readonly shouldPush: boolean };
}

export type IntentOperation = IntentSpec | MessageIntent;

/** Who the Welcome of a commit in flight is for: wrapped to `initKey` once the commit is confirmed. */
export interface WelcomeRecipient {
  readonly installationKey: Uint8Array;
  readonly initKey: Uint8Array;
}

/** The version byte every record written today opens with. */
export const INTENT_RECORD_VERSION = 1;

const KIND_CODES = { message: 1, key_update: 2, membership: 3, metadata: 4, admins: 5, permission: 6 } as const;
const ADMIN_CHANGE_CODES = { addAdmin: 1, removeAdmin: 2, addSuperAdmin: 3, removeSuperAdmin: 4 } as const satisfies Record<AdminListChange, number>;
const INSTALLATION_KEY_LENGTH = 32;

function codeOf<K extends string>(codes: Readonly<Record<K, number>>, code: number): K | undefined {
  return (Object.keys(codes) as K[]).find((key) => codes[key] === code);
}

function isOneOf<V extends number>(values: Readonly<Record<string, V>>, value: unknown): value is V {
  return (Object.values(values) as unknown[]).includes(value);
}

export const isPermissionUpdateType = (value: unknown): value is PermissionUpdateType => isOneOf(PermissionUpdateType, value);
export const isPermissionPolicy = (value: unknown): value is PermissionPolicy => isOneOf(PermissionPolicy, value);
export const isMetadataField = (value: unknown): value is MetadataField => isOneOf(MetadataField, value);

/**
 * @throws ClientError `client.usage` for a permission value the official
 *   SDK does not define (the commit that carries it is refused first).
 */
export function encodeIntentOperation(operation: IntentOperation): Uint8Array {
  const w = new RecordWriter().u8(INTENT_RECORD_VERSION).u8(KIND_CODES[operation.kind]);
  switch (operation.kind) {
    case "message":
      w.bytes(operation.params.encodedContent).string(operation.params.idempotencyKey).bool(operation.params.shouldPush);
      break;
    case "key_update":
      break;
    case "membership":
      w.strings(operation.params.addInboxes ?? []).strings(operation.params.removeInboxes ?? []);
      break;
    case "metadata":
      w.string(operation.params.key).string(operation.params.value);
      break;
    case "admins":
      w.u8(ADMIN_CHANGE_CODES[operation.params.change]).string(operation.params.inboxId);
      break;
    case "permission": {
      const { type, policy, metadataField } = operation.params;
      if (!isPermissionUpdateType(type) || !isPermissionPolicy(policy) || (metadataField !== undefined && !isMetadataField(metadataField))) {
        throw new ClientError("client.usage", "unknown permission update type, policy or metadata field");
      }
      w.u8(type).u8(policy).bool(metadataField !== undefined);
      if (metadataField !== undefined) w.u8(metadataField);
      break;
    }
  }
  return w.finish();
}

/**
 * @param what names the record in the error (`intent 7`).
 * @throws ClientError `client.bad_store` for an unknown version or kind, a
 *   value outside its set, or bytes that do not decode exactly.
 */
export function decodeIntentOperation(bytes: Uint8Array, what = "intent"): IntentOperation {
  const r = new RecordReader(bytes, `${what} operation`);
  const version = r.u8();
  if (version !== INTENT_RECORD_VERSION) throw r.fail(`unknown record version ${version}`);
  const code = r.u8();
  const kind = codeOf(KIND_CODES, code);
  let operation: IntentOperation;
  switch (kind) {
    case "message":
      operation = { kind, params: { encodedContent: r.bytes(), idempotencyKey: r.string(), shouldPush: r.bool() } };
      break;
    case "key_update":
      operation = { kind, params: {} };
      break;
    case "membership":
      operation = { kind, params: { addInboxes: r.strings(), removeInboxes: r.strings() } };
      break;
    case "metadata":
      operation = { kind, params: { key: r.string(), value: r.string() } };
      break;
    case "admins": {
      const change = codeOf(ADMIN_CHANGE_CODES, r.u8());
      if (change === undefined) throw r.fail("unknown admin list change");
      operation = { kind, params: { change, inboxId: r.string() } };
      break;
    }
    case "permission": {
      const type = r.u8();
      const policy = r.u8();
      const field = r.bool() ? r.u8() : undefined;
      if (!isPermissionUpdateType(type)) throw r.fail(`unknown permission update type ${type}`);
      if (!isPermissionPolicy(policy)) throw r.fail(`unknown permission policy ${policy}`);
      if (field === undefined) {
        operation = { kind, params: { type, policy } };
      } else {
        if (!isMetadataField(field)) throw r.fail(`unknown metadata field ${field}`);
        operation = { kind, params: { type, policy, metadataField: field } };
      }
      break;
    }
    case undefined:
      throw r.fail(`unknown kind ${code}`);
  }
  r.end();
  return operation;
}

export function encodeWelcomeRecipients(recipients: readonly WelcomeRecipient[]): Uint8Array {
  const w = new RecordWriter().u8(INTENT_RECORD_VERSION).u32(recipients.length);
  for (const r of recipients) w.bytes(r.installationKey).bytes(r.initKey);
  return w.finish();
}

/**
 * @throws ClientError `client.bad_store` for an unknown version, an
 *   installation key that is not 32 bytes, an empty init key, or bytes that
 *   do not decode exactly.
 */
export function decodeWelcomeRecipients(bytes: Uint8Array, what = "intent"): WelcomeRecipient[] {
  const r = new RecordReader(bytes, `${what} recipients`);
  const version = r.u8();
  if (version !== INTENT_RECORD_VERSION) throw r.fail(`unknown record version ${version}`);
  const count = r.u32();
  // Each recipient takes at least its two 4-byte lengths.
  if (count > bytes.length / 8) throw r.fail("truncated");
  const recipients: WelcomeRecipient[] = [];
  for (let i = 0; i < count; i += 1) {
    const installationKey = r.bytes();
    const initKey = r.bytes();
    if (installationKey.length !== INSTALLATION_KEY_LENGTH) throw r.fail(`recipient ${i}: installation key of ${installationKey.length} bytes`);
    if (initKey.length === 0) throw r.fail(`recipient ${i}: empty init key`);
    recipients.push({ installationKey, initKey });
  }
  r.end();
  return recipients;
}
