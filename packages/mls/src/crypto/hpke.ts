// HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256
// on node:crypto, with either ChaCha20-Poly1305 (suite 3) or AES-128-GCM
// (suite 1, vectors only). Exposed as ts-mls's `Hpke`, whose key types are
// declared as WebCrypto CryptoKeys: ours are plain objects carrying a
// KeyObject, cast once at the boundary (`asHpkeKey`).
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Hpke, PrivateKey, PublicKey } from "ts-mls";
import { aeadKeyLength, aeadOpen, aeadSeal, NONCE_LENGTH, type AeadName } from "./aead.js";
import { concat, i2osp, lift, utf8 } from "./bytes.js";
import { hkdfExpand, hkdfExtract } from "./hkdf.js";
import { exportRawPrivate, exportRawPublic, importPrivate, importPublic } from "./okp-keys.js";

const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID: Record<AeadName, number> = { AES128GCM: 0x0001, CHACHA20POLY1305: 0x0003 };
const N_SECRET = 32;
/** Npk and Nsk of DHKEM(X25519, HKDF-SHA256) (RFC 9180 section 7.1): also Nenc. */
export const X25519_KEY_LENGTH = 32;
const HPKE_V1 = utf8("HPKE-v1");
const KEM_SUITE_ID = concat(utf8("KEM"), i2osp(KEM_ID, 2));

export class HpkeError extends Error {
  override readonly name = "HpkeError";
}

interface HpkeKey {
  readonly type: "public" | "private";
  readonly algorithm: { readonly name: "X25519" };
  readonly extractable: true;
  readonly usages: readonly string[];
}
// Keys are lazy: ts-mls derives a key pair for every path secret but mostly
// only exports the private half again (privateKeyPath.ts), so the KeyObject
// (an OpenSSL import, once the largest cost of processing a commit) and the
// public point are made only when a DH or a public export needs them. A raw
// key is the caller's array, not a copy: the import caches in okp-keys.ts
// key on its identity.
interface KeyState {
  readonly type: "public" | "private";
  raw?: Uint8Array;
  key?: KeyObject;
  /** For a public key derived from a private one. */
  readonly from?: object;
  /** For a private key: its public half, once computed. */
  publicRaw?: Uint8Array;
}
const states = new WeakMap<object, KeyState>();

function makeKey(state: KeyState): object {
  const wrapper: HpkeKey = { type: state.type, algorithm: { name: "X25519" }, extractable: true, usages: [] };
  states.set(wrapper, state);
  return wrapper;
}

function asPrivate(state: Omit<KeyState, "type">): PrivateKey {
  return makeKey({ ...state, type: "private" }) as unknown as PrivateKey;
}

function asPublic(state: Omit<KeyState, "type">): PublicKey {
  return makeKey({ ...state, type: "public" }) as unknown as PublicKey;
}

function stateOf(key: object): KeyState {
  const s = states.get(key);
  if (s === undefined) throw new HpkeError("HPKE: key was not made by this provider");
  return s;
}

function keyObjectOf(key: object): KeyObject {
  const s = stateOf(key);
  if (s.key === undefined) {
    if (s.from !== undefined) s.key = createPublicKey(keyObjectOf(s.from));
    else if (s.raw !== undefined) s.key = s.type === "private" ? importPrivate("x25519", s.raw) : importPublic("x25519", s.raw);
    else throw new HpkeError("HPKE: empty key");
  }
  return s.key;
}

const publicOfRawPrivate = new WeakMap<Uint8Array, Uint8Array>();

function rawPublicOfPrivate(key: object): Uint8Array {
  const s = stateOf(key);
  if (s.publicRaw === undefined) {
    const cached = s.raw === undefined ? undefined : publicOfRawPrivate.get(s.raw);
    s.publicRaw = cached ?? exportRawPublic(createPublicKey(keyObjectOf(key)));
    if (s.raw !== undefined) publicOfRawPrivate.set(s.raw, s.publicRaw);
  }
  return s.publicRaw;
}

function rawOf(key: object): Uint8Array {
  const s = stateOf(key);
  if (s.raw !== undefined) return s.raw;
  if (s.from !== undefined) return rawPublicOfPrivate(s.from);
  s.raw = s.type === "private" ? exportRawPrivate(keyObjectOf(key)) : exportRawPublic(keyObjectOf(key));
  return s.raw;
}

function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(salt, concat(HPKE_V1, suiteId, utf8(label), ikm));
}

function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(prk, concat(i2osp(length, 2), HPKE_V1, suiteId, utf8(label), info), length);
}

function dh(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new HpkeError("HPKE: X25519 failed", { cause });
  }
  // RFC 9180 7.1.4: an all-zero X25519 output (small-order point) is an error.
  if (shared.every((b) => b === 0)) throw new HpkeError("HPKE: X25519 produced the zero point");
  return shared;
}

function extractAndExpand(dhOut: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "eae_prk", dhOut);
  return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, N_SECRET);
}

/** The per-message state of one HPKE context (RFC 9180 5.2). */
export interface HpkeContext {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
  seq: number;
}

export function createHpkeSuite(aead: AeadName) {
  const suiteId = concat(utf8("HPKE"), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(AEAD_ID[aead], 2));
  const nk = aeadKeyLength(aead);

  function keySchedule(sharedSecret: Uint8Array, info: Uint8Array): HpkeContext {
    const empty = new Uint8Array(0);
    const pskIdHash = labeledExtract(suiteId, empty, "psk_id_hash", empty);
    const infoHash = labeledExtract(suiteId, empty, "info_hash", info);
    const context = concat(Uint8Array.of(0x00), pskIdHash, infoHash);
    const secret = labeledExtract(suiteId, sharedSecret, "secret", empty);
    return {
      key: labeledExpand(suiteId, secret, "key", context, nk),
      baseNonce: labeledExpand(suiteId, secret, "base_nonce", context, NONCE_LENGTH),
      exporterSecret: labeledExpand(suiteId, secret, "exp", context, N_SECRET),
      seq: 0,
    };
  }

  function nonceFor(ctx: HpkeContext): Uint8Array {
    const nonce = new Uint8Array(ctx.baseNonce);
    const seq = i2osp(ctx.seq, NONCE_LENGTH);
    for (let i = 0; i < NONCE_LENGTH; i++) nonce[i]! ^= seq[i]!;
    return nonce;
  }

  /** Sender side (RFC 9180 5.1.1 SetupBaseS). */
  function setupSender(recipient: KeyObject, pkR: Uint8Array, info: Uint8Array): { enc: Uint8Array; ctx: HpkeContext } {
    const eph = generateKeyPairSync("x25519");
    const enc = exportRawPublic(eph.publicKey);
    const shared = extractAndExpand(dh(eph.privateKey, recipient), concat(enc, pkR));
    return { enc, ctx: keySchedule(shared, info) };
  }

  /** Receiver side (RFC 9180 5.1.1 SetupBaseR). */
  function setupReceiver(recipient: PrivateKey, enc: Uint8Array, info: Uint8Array): HpkeContext {
    let pkE: KeyObject;
    try {
      pkE = importPublic("x25519", enc);
    } catch (cause) {
      throw new HpkeError("HPKE: bad kem output", { cause });
    }
    const shared = extractAndExpand(dh(keyObjectOf(recipient), pkE), concat(enc, rawPublicOfPrivate(recipient)));
    return keySchedule(shared, info);
  }

  function sealWith(ctx: HpkeContext, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const ct = aeadSeal(aead, ctx.key, nonceFor(ctx), aad, plaintext);
    ctx.seq += 1;
    return ct;
  }

  function openWith(ctx: HpkeContext, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    let pt: Uint8Array;
    try {
      pt = aeadOpen(aead, ctx.key, nonceFor(ctx), aad, ciphertext);
    } catch (cause) {
      throw new HpkeError("HPKE: open failed", { cause });
    }
    ctx.seq += 1;
    return pt;
  }

  function exportFrom(ctx: HpkeContext, exporterContext: Uint8Array, length: number): Uint8Array {
    return labeledExpand(suiteId, ctx.exporterSecret, "sec", exporterContext, length);
  }

  // X25519 accepts any 32 bytes as a scalar or a point (RFC 7748), so the
  // length is the whole check; import happens on first use.
  function importX25519Private(raw: Uint8Array): PrivateKey {
    if (raw.length !== X25519_KEY_LENGTH) throw new HpkeError("HPKE: private key must be 32 bytes");
    // The caller's array is kept, not copied: the import caches key on its identity.
    return asPrivate({ raw });
  }

  function importX25519Public(raw: Uint8Array): PublicKey {
    if (raw.length !== X25519_KEY_LENGTH) throw new HpkeError("HPKE: public key must be 32 bytes");
    return asPublic({ raw });
  }

  const hpke: Hpke = {
    open(privateKey, kemOutput, ciphertext, info, aad) {
      return lift(() => {
        return openWith(setupReceiver(privateKey, kemOutput, info), aad ?? new Uint8Array(0), ciphertext);
      });
    },
    seal(publicKey, plaintext, info, aad) {
      return lift(() => {
        const { enc, ctx } = setupSender(keyObjectOf(publicKey), rawOf(publicKey), info);
        return { ct: sealWith(ctx, aad ?? new Uint8Array(0), plaintext), enc };
      });
    },
    importPrivateKey(k) {
      return lift(() => {
        return importX25519Private(k);
      });
    },
    importPublicKey(k) {
      return lift(() => {
        return importX25519Public(k);
      });
    },
    exportPublicKey(k) {
      return lift(() => {
        return rawOf(k).slice();
      });
    },
    exportPrivateKey(k) {
      return lift(() => {
        return rawOf(k).slice();
      });
    },
    encryptAead(key, nonce, aad, plaintext) {
      return lift(() => {
        return aeadSeal(aead, key, nonce, aad ?? new Uint8Array(0), plaintext);
      });
    },
    decryptAead(key, nonce, aad, ciphertext) {
      return lift(() => {
        return aeadOpen(aead, key, nonce, aad ?? new Uint8Array(0), ciphertext);
      });
    },
    exportSecret(publicKey, exporterContext, length, info) {
      return lift(() => {
        const { enc, ctx } = setupSender(keyObjectOf(publicKey), rawOf(publicKey), info);
        return { enc, secret: exportFrom(ctx, exporterContext, length) };
      });
    },
    importSecret(privateKey, exporterContext, kemOutput, length, info) {
      return lift(() => {
        return exportFrom(setupReceiver(privateKey, kemOutput, info), exporterContext, length);
      });
    },
    deriveKeyPair(ikm) {
      return lift(() => {
        // RFC 9180 7.1.3: X25519 uses the expanded bytes as the scalar directly.
        const dkpPrk = labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "dkp_prk", ikm);
        const sk = labeledExpand(KEM_SUITE_ID, dkpPrk, "sk", new Uint8Array(0), N_SECRET);
        const privateKey = asPrivate({ raw: sk });
        return { privateKey, publicKey: asPublic({ from: privateKey }) };
      });
    },
    generateKeyPair() {
      return lift(() => {
        const kp = generateKeyPairSync("x25519");
        return { privateKey: asPrivate({ key: kp.privateKey }), publicKey: asPublic({ key: kp.publicKey }) };
      });
    },
    keyLength: nk,
    nonceLength: NONCE_LENGTH,
  };

  return {
    hpke,
    /** Sets up a sender context to seal several messages in order (welcome wrapping). */
    setupSender(recipientPublicKey: Uint8Array, info: Uint8Array) {
      return setupSender(importPublic("x25519", recipientPublicKey), recipientPublicKey, info);
    },
    setupReceiver(recipientPrivateKey: Uint8Array, enc: Uint8Array, info: Uint8Array) {
      return setupReceiver(importX25519Private(recipientPrivateKey), enc, info);
    },
    seal: sealWith,
    open: openWith,
  };
}

export type HpkeSuite = ReturnType<typeof createHpkeSuite>;
