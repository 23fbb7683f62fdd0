// Raw 32-byte Ed25519 / X25519 keys <-> node:crypto KeyObjects. Through
// JWK, not DER: on Node 20 / OpenSSL 3 a PKCS#8 import measured about 7x and
// an SPKI import and export about 7x and 50x slower than the JWK path, which
// goes straight to the raw-key constructors. DER stays as a fallback.
// Imports are cached: the first cache is keyed by the Uint8Array
// object itself (ts-mls passes the same array from a state again and again,
// and a WeakMap holds no secret beyond the array's own life); public keys
// also get a small content-keyed cache, since trees decoded from the wire
// give fresh arrays for the same key.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { plain, toHex } from "./bytes.js";

export type OkpCurve = "ed25519" | "x25519";

const OID: Record<OkpCurve, number> = { ed25519: 0x70, x25519: 0x6e };
const RAW_LENGTH = 32;

function pkcs8(curve: OkpCurve, raw: Uint8Array): Buffer {
  // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.x }, OCTET STRING { OCTET STRING raw } }
  const prefix = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, OID[curve], 0x04, 0x22, 0x04, 0x20];
  return Buffer.concat([Buffer.from(prefix), raw]);
}

function spki(curve: OkpCurve, raw: Uint8Array): Buffer {
  // SEQUENCE { SEQUENCE { OID 1.3.101.x }, BIT STRING raw }
  const prefix = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, OID[curve], 0x03, 0x21, 0x00];
  return Buffer.concat([Buffer.from(prefix), raw]);
}

const CRV: Record<OkpCurve, string> = { ed25519: "Ed25519", x25519: "X25519" };
// Node builds a private OKP key from `d` alone; `x` must be present in the
// JWK but is not used (checked in okp-keys.test.ts). Should a later Node
// check it against `d`, the import throws and the DER path takes over.
const PLACEHOLDER_X = Buffer.alloc(32).toString("base64url");

function b64url(raw: Uint8Array): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64url");
}

function fromB64url(s: string | undefined): Uint8Array {
  if (s === undefined) throw new KeyImportError("key export gave no raw bytes");
  return plain(Buffer.from(s, "base64url"));
}

export class KeyImportError extends Error {
  override readonly name = "KeyImportError";
}

const privateCache: Record<OkpCurve, WeakMap<Uint8Array, KeyObject>> = {
  ed25519: new WeakMap(),
  x25519: new WeakMap(),
};
const publicCache: Record<OkpCurve, WeakMap<Uint8Array, KeyObject>> = {
  ed25519: new WeakMap(),
  x25519: new WeakMap(),
};
const PUBLIC_BY_VALUE_MAX = 4096;
const publicByValue: Record<OkpCurve, Map<string, KeyObject>> = {
  ed25519: new Map(),
  x25519: new Map(),
};

/**
 * Imports a raw 32-byte private key (Ed25519 seed or X25519 scalar). A
 * 48-byte PKCS#8 Ed25519 key, as ts-mls's default provider generates, is
 * accepted too so that state made by it still signs.
 */
export function importPrivate(curve: OkpCurve, raw: Uint8Array): KeyObject {
  const cached = privateCache[curve].get(raw);
  if (cached !== undefined) return cached;
  let key: KeyObject | undefined;
  if (raw.length === RAW_LENGTH) {
    try {
      key = createPrivateKey({ key: { kty: "OKP", crv: CRV[curve], d: b64url(raw), x: PLACEHOLDER_X }, format: "jwk" });
    } catch {
      key = undefined;
    }
  }
  if (key === undefined) {
    let der: Buffer;
    if (raw.length === RAW_LENGTH) der = pkcs8(curve, raw);
    else if (curve === "ed25519" && raw.length === 48) der = Buffer.from(raw);
    else throw new KeyImportError(`${curve}: private key must be ${RAW_LENGTH} bytes`);
    try {
      key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    } catch (cause) {
      throw new KeyImportError(`${curve}: private key does not import`, { cause });
    } finally {
      der.fill(0);
    }
  }
  privateCache[curve].set(raw, key);
  return key;
}

export function importPublic(curve: OkpCurve, raw: Uint8Array): KeyObject {
  const cached = publicCache[curve].get(raw);
  if (cached !== undefined) return cached;
  if (raw.length !== RAW_LENGTH) throw new KeyImportError(`${curve}: public key must be ${RAW_LENGTH} bytes`);
  const hex = toHex(raw);
  let key = publicByValue[curve].get(hex);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: { kty: "OKP", crv: CRV[curve], x: b64url(raw) }, format: "jwk" });
    } catch {
      try {
        key = createPublicKey({ key: spki(curve, raw), format: "der", type: "spki" });
      } catch (cause) {
        throw new KeyImportError(`${curve}: public key does not import`, { cause });
      }
    }
    const byValue = publicByValue[curve];
    if (byValue.size >= PUBLIC_BY_VALUE_MAX) {
      const oldest = byValue.keys().next();
      if (oldest.done !== true) byValue.delete(oldest.value);
    }
    byValue.set(hex, key);
  }
  publicCache[curve].set(raw, key);
  return key;
}

export function exportRawPublic(key: KeyObject): Uint8Array {
  return fromB64url(key.export({ format: "jwk" }).x);
}

export function exportRawPrivate(key: KeyObject): Uint8Array {
  return fromB64url(key.export({ format: "jwk" }).d);
}

/** Remembers an already-built private key under its raw bytes. */
export function rememberPrivate(curve: OkpCurve, raw: Uint8Array, key: KeyObject): void {
  privateCache[curve].set(raw, key);
}

/** The raw public key of a raw private key. @throws KeyImportError */
export function rawPublicOf(curve: OkpCurve, raw: Uint8Array): Uint8Array {
  return exportRawPublic(createPublicKey(importPrivate(curve, raw)));
}
