// The node:crypto crypto provider for ts-mls. Suite 3
// (MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519) is the product;
// suite 1 (the same with AES-128-GCM) is here only because the official
// tree-operations vectors exist for suite 1 alone. Everything is synchronous
// OpenSSL underneath; the async signatures are ts-mls's interface.
import { randomBytes, randomFillSync } from "node:crypto";
import type { CiphersuiteImpl, CryptoProvider, Hash, Kdf, Rng } from "ts-mls";
import { ciphersuites } from "../engine/ts-mls.js";
import type { AeadName } from "./aead.js";
import { constantTimeEqual, lift, plain } from "./bytes.js";
import { HASH_LENGTH, hkdfExpand, hkdfExtract, hmacSha256, sha256 } from "./hkdf.js";
import { createHpkeSuite, type HpkeSuite } from "./hpke.js";
import { nodeEd25519 } from "./signature.js";

// RFC 9420 section 17.1 ids, by ts-mls's names.
const SUITE_3 = ciphersuites.MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;
const SUITE_1 = ciphersuites.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

export class UnsupportedSuiteError extends Error {
  override readonly name = "UnsupportedSuiteError";
}

const hash: Hash = {
  digest(data) {
    return lift(() => {
      return sha256(data);
    });
  },
  mac(key, data) {
    return lift(() => {
      return hmacSha256(key, data);
    });
  },
  verifyMac(key, mac, data) {
    return lift(() => {
      return constantTimeEqual(hmacSha256(key, data), mac);
    });
  },
};

const kdf: Kdf = {
  extract(salt, ikm) {
    return lift(() => {
      return hkdfExtract(salt, ikm);
    });
  },
  expand(prk, info, len) {
    return lift(() => {
      return hkdfExpand(prk, info, len);
    });
  },
  size: HASH_LENGTH,
};

// Every message asks for a 4-byte reuse guard; one OpenSSL call per 4 KiB
// instead of per message measured about 5% of the application-message path.
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let poolAt = 0;

const rng: Rng = {
  randomBytes(n) {
    if (n > POOL_SIZE / 4) return plain(randomBytes(n));
    if (poolAt + n > pool.length) {
      pool = new Uint8Array(POOL_SIZE);
      randomFillSync(pool);
      poolAt = 0;
    }
    const out = pool.slice(poolAt, poolAt + n);
    // Handed-out bytes are wiped from the pool: no copy of a secret stays behind.
    pool.fill(0, poolAt, poolAt + n);
    poolAt += n;
    return out;
  },
};

const suites = new Map<number, { impl: CiphersuiteImpl; hpke: HpkeSuite }>();

function suite(id: number): { impl: CiphersuiteImpl; hpke: HpkeSuite } {
  let s = suites.get(id);
  if (s === undefined) {
    let aead: AeadName;
    if (id === SUITE_3) aead = "CHACHA20POLY1305";
    else if (id === SUITE_1) aead = "AES128GCM";
    else throw new UnsupportedSuiteError(`ciphersuite ${id} is not supported`);
    const hpke = createHpkeSuite(aead);
    s = { impl: { hash, kdf, rng, signature: nodeEd25519, hpke: hpke.hpke, id }, hpke };
    suites.set(id, s);
  }
  return s;
}

/** The ts-mls ciphersuite implementation for `id` (3, or 1 for vectors). */
export function nodeCiphersuite(id: number = SUITE_3): CiphersuiteImpl {
  return suite(id).impl;
}

/** HPKE with context access (several messages under one setup), for welcome wrapping. */
export function nodeHpkeSuite(id: number = SUITE_3): HpkeSuite {
  return suite(id).hpke;
}

/** A ts-mls CryptoProvider on node:crypto. */
export const nodeCryptoProvider: CryptoProvider = {
  getCiphersuiteImpl(id) {
    return lift(() => {
      return nodeCiphersuite(id);
    });
  },
};
