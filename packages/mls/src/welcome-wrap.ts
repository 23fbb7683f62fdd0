// XMTP's second wrapping of Welcomes (xmtp-client.md 2.1-2.3; libxmtp
// payload_encryption.rs wrap_payload_hpke): HPKE base mode, DHKEM-X25519,
// HKDF-SHA256, ChaCha20-Poly1305, to the recipient key package's init key,
// info = TLS EncryptContext{label = "MLS 1.0 MLS_WELCOME", context = ""},
// empty AAD. One sender context seals the Welcome first (stored as the TLS
// HPKECiphertext{kem_output<V>, ciphertext<V>}) and then the WelcomeMetadata
// (sequence 1, raw AEAD ciphertext). We always use CURVE25519 with init_key:
// receivers accept it even when they advertise X-Wing (spec 2.1).
import { decode, encode, messageContents, mlsApi } from "@parley/proto";
import { concat, utf8 } from "./crypto/bytes.js";
import { X25519_KEY_LENGTH } from "./crypto/hpke.js";
import { nodeHpkeSuite } from "./crypto/provider.js";
import { MlsError } from "./mls-error.js";
import { decodeVarint, vector } from "./tls.js";

/** TLS EncryptContext{label: "MLS 1.0 MLS_WELCOME", context: ""}: 0x13 "MLS 1.0 MLS_WELCOME" 0x00. */
export const WELCOME_WRAP_INFO: Uint8Array = concat(vector(utf8("MLS 1.0 MLS_WELCOME")), vector(new Uint8Array(0)));

export const WelcomeWrapperAlgorithm = messageContents.WelcomeWrapperAlgorithm;

export interface WrappedWelcome {
  /** `WelcomeMessageInput.V1.data`: TLS HPKECiphertext of the MLSMessage Welcome. */
  readonly data: Uint8Array;
  /** `WelcomeMessageInput.V1.welcome_metadata`: AEAD ciphertext of WelcomeMetadata. */
  readonly welcomeMetadata: Uint8Array;
  /** `hpke_public_key`: the init key used. */
  readonly hpkePublicKey: Uint8Array;
  /** `wrapper_algorithm`: always CURVE25519. */
  readonly wrapperAlgorithm: messageContents.WelcomeWrapperAlgorithm;
}

/**
 * Wraps an MLSMessage Welcome and its metadata for one recipient.
 *
 * @param messageCursor the server sequence id of the commit that added them.
 * @throws MlsError `mls.usage` for an init key that is not 32 bytes.
 */
export function wrapWelcome(welcome: Uint8Array, initKey: Uint8Array, messageCursor: bigint): WrappedWelcome {
  if (initKey.length !== X25519_KEY_LENGTH) throw new MlsError("mls.usage", "wrapWelcome: init key must be a 32-byte X25519 key");
  const suite = nodeHpkeSuite();
  let setup;
  try {
    setup = suite.setupSender(initKey, WELCOME_WRAP_INFO);
  } catch (cause) {
    throw new MlsError("mls.usage", "wrapWelcome: init key is not a usable X25519 key", { cause });
  }
  const empty = new Uint8Array(0);
  const sealedWelcome = suite.seal(setup.ctx, empty, welcome);
  const metadata = encode(mlsApi.WelcomeMetadataSchema, { $typeName: "xmtp.mls.api.v1.WelcomeMetadata", messageCursor });
  const sealedMetadata = suite.seal(setup.ctx, empty, metadata);
  return {
    data: concat(vector(setup.enc), vector(sealedWelcome)),
    welcomeMetadata: sealedMetadata,
    hpkePublicKey: initKey,
    wrapperAlgorithm: messageContents.WelcomeWrapperAlgorithm.CURVE25519,
  };
}

export interface UnwrappedWelcome {
  /** The MLSMessage Welcome. */
  readonly welcome: Uint8Array;
  /** WelcomeMetadata.message_cursor, when metadata was sent. */
  readonly messageCursor: bigint | undefined;
}

function readVector(bytes: Uint8Array, offset: number): [Uint8Array, number] {
  const header = decodeVarint(bytes, offset);
  if (header === undefined) throw new MlsError("mls.malformed", "wrapped Welcome: bad length prefix");
  const start = offset + header[1];
  const end = start + header[0];
  if (end > bytes.length) throw new MlsError("mls.malformed", "wrapped Welcome: length past the end");
  return [bytes.subarray(start, end), end];
}

/**
 * Opens a wrapped Welcome with the init private key of our key package.
 *
 * @throws MlsError `mls.malformed`, `mls.unsupported_ciphersuite` (X-Wing or
 *   symmetric wrapping), `mls.decrypt_failed`.
 */
export function unwrapWelcome(
  wrapped: Pick<WrappedWelcome, "data" | "welcomeMetadata" | "wrapperAlgorithm">,
  initPrivateKey: Uint8Array,
): UnwrappedWelcome {
  const alg = wrapped.wrapperAlgorithm;
  if (alg !== messageContents.WelcomeWrapperAlgorithm.CURVE25519 && alg !== messageContents.WelcomeWrapperAlgorithm.UNSPECIFIED) {
    throw new MlsError("mls.unsupported_ciphersuite", "unwrapWelcome: only Curve25519 wrapping is supported");
  }
  const [enc, afterEnc] = readVector(wrapped.data, 0);
  const [ciphertext, end] = readVector(wrapped.data, afterEnc);
  if (end !== wrapped.data.length) throw new MlsError("mls.malformed", "wrapped Welcome: trailing bytes");
  if (enc.length !== X25519_KEY_LENGTH) throw new MlsError("mls.malformed", "wrapped Welcome: kem output is not 32 bytes");
  const suite = nodeHpkeSuite();
  const empty = new Uint8Array(0);
  let welcome: Uint8Array;
  let ctx;
  try {
    ctx = suite.setupReceiver(initPrivateKey, enc, WELCOME_WRAP_INFO);
    welcome = suite.open(ctx, empty, ciphertext);
  } catch (cause) {
    throw new MlsError("mls.decrypt_failed", "unwrapWelcome: HPKE open failed", { cause });
  }
  if (wrapped.welcomeMetadata.length === 0) return { welcome, messageCursor: undefined };
  let metadata: Uint8Array;
  try {
    metadata = suite.open(ctx, empty, wrapped.welcomeMetadata);
  } catch (cause) {
    throw new MlsError("mls.decrypt_failed", "unwrapWelcome: metadata open failed", { cause });
  }
  try {
    return { welcome, messageCursor: decode(mlsApi.WelcomeMetadataSchema, metadata).messageCursor };
  } catch (cause) {
    throw new MlsError("mls.malformed", "unwrapWelcome: metadata is not WelcomeMetadata", { cause });
  }
}
