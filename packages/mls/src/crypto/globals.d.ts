// ts-mls's public types name the WebCrypto `CryptoKey` (its HPKE keys).
// Node 20 has that global at runtime, but @types/node 20 declares it only as
// `crypto.webcrypto.CryptoKey` and our lib is ES2023 without DOM, so the
// name would resolve to nothing and every HPKE key would type as an error.
import type { webcrypto } from "node:crypto";

declare global {
  type CryptoKey = webcrypto.CryptoKey;
}
