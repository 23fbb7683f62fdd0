// The to-be-signed bytes of a KeyPackage and of its LeafNode (RFC 9420
// 10 KeyPackageTBS, 7.2 LeafNodeTBS for source key_package). ts-mls does
// not export its TBS encoders, so they are cut out of the full encoding:
// a KeyPackage is KeyPackageTBS || signature<V>, KeyPackageTBS ends with
// the leaf node then extensions<V>, and a key-package LeafNode is its TBS ||
// signature<V>. A package that does not re-encode to what was signed fails
// verification, which is the strict outcome we want.
import type { KeyPackage } from "ts-mls";
import { encode, keyPackageEncoder } from "./engine/ts-mls.js";
import { MlsError } from "./mls-error.js";
import { encodeVarint } from "./tls.js";

function vectorLength(contentLength: number): number {
  return encodeVarint(contentLength).length + contentLength;
}

function extensionsLength(extensions: readonly { extensionData: Uint8Array }[]): number {
  let inner = 0;
  for (const e of extensions) inner += 2 + vectorLength(e.extensionData.length);
  return vectorLength(inner);
}

function encoded(kp: KeyPackage): Uint8Array {
  try {
    return encode(keyPackageEncoder, kp);
  } catch (cause) {
    // ts-mls decodes some extension types into shapes its encoder then
    // can't write (a TypeError): such a package can't have been signed as is.
    throw new MlsError("mls.malformed", "KeyPackage: does not re-encode", { cause });
  }
}

export function keyPackageTbsOf(kp: KeyPackage): Uint8Array {
  const full = encoded(kp);
  return full.subarray(0, full.length - vectorLength(kp.signature.length));
}

/** LeafNodeTBS of the key package's own leaf (source key_package). */
export function leafNodeTbsOf(kp: KeyPackage): Uint8Array {
  const tbs = keyPackageTbsOf(kp);
  const leafStart = 4 + vectorLength(kp.initKey.length);
  const leafEnd = tbs.length - extensionsLength(kp.extensions);
  const leafBytes = tbs.subarray(leafStart, leafEnd);
  return leafBytes.subarray(0, leafBytes.length - vectorLength(kp.leafNode.signature.length));
}
