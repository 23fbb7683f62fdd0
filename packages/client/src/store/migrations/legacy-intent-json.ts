// How the store before versioned migrations (store version 1) kept what an
// intent must regenerate: a `kind` column and its parameters as JSON text,
// and the Welcome's recipients as a JSON array with hex keys. Read here
// only by migration 2, which turns them into records (intent-record.ts).
// Every field is checked; a row that does not match what that code wrote is
// refused rather than carried over half understood.
//
//   message      {"encoded": hex, "idempotencyKey": string, "shouldPush": boolean}
//   key_update   {}
//   membership   {"addInboxes"?: string[], "removeInboxes"?: string[]}
//   metadata     {"key": string, "value": string}
//   admins       {"change": "addAdmin" | "removeAdmin" | "addSuperAdmin" | "removeSuperAdmin", "inboxId": string}
//   permission   {"type": number, "policy": number, "metadataField"?: number}
//   recipients   [{"installationKey": hex, "initKey": hex}, ...]
import { ClientError } from "../../client-error.js";
import type { AdminListChange } from "../../conversations/admin-lists.js";
import {
  decodeIntentOperation,
  decodeWelcomeRecipients,
  encodeIntentOperation,
  encodeWelcomeRecipients,
  isMetadataField,
  isPermissionPolicy,
  isPermissionUpdateType,
  type IntentOperation,
  type WelcomeRecipient,
} from "../intent-record.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const isHex = (v: unknown): v is string => typeof v === "string" && /^(?:[0-9a-fA-F]{2})*$/.test(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const ADMIN_CHANGES: readonly string[] = ["addAdmin", "removeAdmin", "addSuperAdmin", "removeSuperAdmin"] satisfies AdminListChange[];
const isAdminChange = (v: unknown): v is AdminListChange => typeof v === "string" && ADMIN_CHANGES.includes(v);

const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));

class Fields {
  constructor(
    readonly json: Json,
    readonly what: string,
  ) {}

  get<T>(key: string, check: (v: unknown) => v is T): T {
    const value = this.json[key];
    if (!check(value)) throw new ClientError("client.bad_store", `${this.what}: field ${key} is missing or of the wrong type`);
    return value;
  }

  optional<T>(key: string, check: (v: unknown) => v is T): T | undefined {
    return this.json[key] === undefined ? undefined : this.get(key, check);
  }
}

function parse(text: string, what: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch (cause) {
    throw new ClientError("client.bad_store", `${what}: not JSON`, { cause });
  }
}

function fieldsOf(text: string, what: string): Fields {
  const value = parse(text, what);
  if (!isObject(value)) throw new ClientError("client.bad_store", `${what}: not a JSON object`);
  return new Fields(value, what);
}

/**
 * The operation a legacy row stands for, checked the way a record is: it
 * is encoded and decoded once, so that what the migration writes is what
 * the decoder accepts.
 *
 * @throws ClientError `client.bad_store`
 */
export function legacyIntentOperation(kind: string, params: string, what: string): IntentOperation {
  const f = fieldsOf(params, `${what} parameters`);
  let operation: IntentOperation;
  switch (kind) {
    case "message":
      operation = {
        kind,
        params: { encodedContent: fromHex(f.get("encoded", isHex)), idempotencyKey: f.get("idempotencyKey", isString), shouldPush: f.get("shouldPush", isBoolean) },
      };
      break;
    case "key_update":
      operation = { kind, params: {} };
      break;
    case "membership":
      operation = { kind, params: { addInboxes: f.optional("addInboxes", isStrings) ?? [], removeInboxes: f.optional("removeInboxes", isStrings) ?? [] } };
      break;
    case "metadata":
      operation = { kind, params: { key: f.get("key", isString), value: f.get("value", isString) } };
      break;
    case "admins":
      operation = { kind, params: { change: f.get("change", isAdminChange), inboxId: f.get("inboxId", isString) } };
      break;
    case "permission": {
      const type = f.get("type", isPermissionUpdateType);
      const policy = f.get("policy", isPermissionPolicy);
      const metadataField = f.optional("metadataField", isMetadataField);
      operation = { kind, params: metadataField === undefined ? { type, policy } : { type, policy, metadataField } };
      break;
    }
    default:
      throw new ClientError("client.bad_store", `${what}: unknown kind ${kind}`);
  }
  return roundTrip(() => decodeIntentOperation(encodeIntentOperation(operation), what), what);
}

/** @throws ClientError `client.bad_store` */
export function legacyWelcomeRecipients(recipients: string, what: string): WelcomeRecipient[] {
  const value = parse(recipients, `${what} recipients`);
  if (!Array.isArray(value)) throw new ClientError("client.bad_store", `${what} recipients: not a JSON array`);
  const list = value.map((item: unknown, i) => {
    if (!isObject(item)) throw new ClientError("client.bad_store", `${what} recipient ${i}: not a JSON object`);
    const f = new Fields(item, `${what} recipient ${i}`);
    return { installationKey: fromHex(f.get("installationKey", isHex)), initKey: fromHex(f.get("initKey", isHex)) };
  });
  return roundTrip(() => decodeWelcomeRecipients(encodeWelcomeRecipients(list), what), what);
}

function roundTrip<T>(run: () => T, what: string): T {
  try {
    return run();
  } catch (cause) {
    if (cause instanceof ClientError && cause.code === "client.bad_store") throw cause;
    if (cause instanceof ClientError || cause instanceof RangeError) throw new ClientError("client.bad_store", `${what}: a value outside its set`, { cause });
    throw cause;
  }
}
