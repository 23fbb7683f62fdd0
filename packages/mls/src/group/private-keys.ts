// The one private key a caller needs out of a stored private key package:
// the init key, to unwrap Welcomes addressed to that key package.
import { decodePrivateKeyPackage } from "../key-package.js";

/** @throws MlsError `mls.malformed` */
export function privateInitKey(privateKeyPackage: Uint8Array): Uint8Array {
  return decodePrivateKeyPackage(privateKeyPackage).initPrivateKey;
}
