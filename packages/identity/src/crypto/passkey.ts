// Passkey signatures (../shared/spec/xmtp-node-api.md section 3.3,
// `passkey`; libxmtp verified_signature.rs `from_passkey`): a WebAuthn
// assertion whose challenge is the signature text, base64url without
// padding, signed with P-256 ECDSA (DER) over authenticatorData ‖
// SHA-256(clientDataJSON). The relying party recorded is clientData's origin.
import { p256 } from "@noble/curves/nist.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { PasskeyRequest, PasskeyVerifier } from "../update/verifiers.js";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** RFC 4648 section 5, without padding, as WebAuthn writes challenges. */
export function base64UrlNoPad(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += alphabet[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

function clientData(json: Uint8Array): { origin: string; challenge: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { origin, challenge } = parsed as Record<string, unknown>;
    return typeof origin === "string" && typeof challenge === "string" ? { origin, challenge } : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a passkey signature; the relying party when it is valid, undefined otherwise. */
export function verifyPasskeySignature(request: PasskeyRequest): { relyingParty: string } | undefined {
  const data = clientData(request.clientDataJson);
  if (data === undefined || data.challenge !== base64UrlNoPad(utf8ToBytes(request.text))) return undefined;
  const signed = concatBytes(request.authenticatorData, sha256(request.clientDataJson));
  try {
    // High S accepted, as the p256 crate does; replay is keyed on the low-S form.
    const valid = p256.verify(request.signature, signed, request.publicKey, { format: "der", lowS: false });
    return valid ? { relyingParty: data.origin } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bytes a passkey signature is recorded under against replay: r ‖ s
 * with s low, so that neither re-encoding the DER nor negating s makes it new.
 */
export function passkeyReplayBytes(signature: Uint8Array): Uint8Array {
  try {
    const parsed = p256.Signature.fromBytes(signature, "der");
    return (parsed.hasHighS() ? new p256.Signature(parsed.r, p256.Point.CURVE().n - parsed.s) : parsed).toBytes("compact");
  } catch {
    return signature;
  }
}

/** A passkey verifier that needs nothing outside this process: plug it in as `verifiers.passkey`. */
export function createPasskeyVerifier(): PasskeyVerifier {
  return {
    verify: (request) => {
      const result = verifyPasskeySignature(request);
      return Promise.resolve(result === undefined ? { isValid: false } : { isValid: true, ...result });
    },
  };
}
