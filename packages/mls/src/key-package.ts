// Key packages as XMTP makes and checks them (RFC 9420 section 10;
// xmtp-client.md 1.3): Basic credential with the MlsCredential, the
// installation key as signature key, ApplicationId = inbox id on the leaf,
// LastResort on the key package, a 12-week lifetime, suite 3 only.
// The node validates with no secrets (`validateKeyPackage`); the client
// creates them (`createKeyPackage`).
import type { KeyPackage, PrivateKeyPackage } from "ts-mls";
import { isInboxId } from "@parley/proto";
import { encode, generateKeyPackageWithKey, keyPackageDecoder, keyPackageEncoder, makeCustomExtension, makeKeyPackageRef, mlsMessageDecoder, privateKeyPackageDecoder, privateKeyPackageEncoder, wireformats } from "./engine/ts-mls.js";
import { utf8 } from "./crypto/bytes.js";
import { nodeCiphersuite } from "./crypto/provider.js";
import { ED25519_SEED_LENGTH, ed25519PublicKey, ed25519Verify } from "./crypto/signature.js";
import { X25519_KEY_LENGTH } from "./crypto/hpke.js";
import { decodeExactly } from "./codec.js";
import { guard } from "./engine-errors.js";
import { MlsError } from "./mls-error.js";
import { decodeVarint, signContent, vector } from "./tls.js";
import { keyPackageTbsOf, leafNodeTbsOf } from "./key-package-tbs.js";
import {
  inboxIdOfCredential,
  installationKeyOfLeaf,
  xmtpCredential,
  type InboxId,
  type InstallationKey,
} from "./xmtp/credential.js";
import {
  CIPHERSUITE,
  ExtensionId,
  KEY_PACKAGE_BACKDATE_SECONDS,
  KEY_PACKAGE_LIFETIME_SECONDS,
  MAX_KEY_PACKAGE_LIFETIME_SECONDS,
  meetsRequiredCapabilities,
  MLS10,
  xmtpCapabilities,
  xmtpRequiredCapabilities,
} from "./xmtp/profile.js";

/** An installation's signing key: the 32-byte Ed25519 seed. Never logged. */
export interface InstallationSigner {
  readonly inboxId: InboxId;
  readonly privateKey: Uint8Array;
}

export interface KeyPackageBundle {
  /** The TLS-serialized KeyPackage, as uploaded (`key_package_tls_serialized`). */
  readonly keyPackage: Uint8Array;
  /** The private half (init, leaf HPKE and signature keys), to store until the Welcome is used. */
  readonly privateKeyPackage: Uint8Array;
  /** The key package's init key: what Welcomes are wrapped to. */
  readonly initKey: Uint8Array;
  readonly installationKey: InstallationKey;
}

export interface CreateKeyPackageOptions {
  /** Seconds since the epoch; defaults to the system clock. */
  readonly nowSeconds?: bigint;
  readonly lifetimeSeconds?: bigint;
}

function nowOf(nowSeconds: bigint | undefined): bigint {
  return nowSeconds ?? BigInt(Math.floor(Date.now() / 1000));
}

/**
 * Creates a last-resort key package for `signer`.
 *
 * @throws MlsError `mls.usage` for an inbox id that is not 64 lowercase hex
 *   digits or a private key that is not a 32-byte seed.
 */
export async function createKeyPackage(
  signer: InstallationSigner,
  options: CreateKeyPackageOptions = {},
): Promise<KeyPackageBundle> {
  const inboxId = signer.inboxId;
  // Typed callers can't get here with a bad id; untyped (JavaScript) ones can.
  if (!isInboxId(inboxId)) throw new MlsError("mls.usage", "inbox id must be 64 lowercase hex digits");
  if (signer.privateKey.length !== ED25519_SEED_LENGTH) {
    throw new MlsError("mls.usage", `installation private key must be ${ED25519_SEED_LENGTH} bytes`);
  }
  const now = nowOf(options.nowSeconds);
  const lifetime = options.lifetimeSeconds ?? KEY_PACKAGE_LIFETIME_SECONDS;
  return guard("createKeyPackage", "mls.internal", async () => {
    const publicKey = ed25519PublicKey(signer.privateKey);
    const { publicPackage, privatePackage } = await generateKeyPackageWithKey({
      credential: xmtpCredential(inboxId),
      capabilities: xmtpCapabilities(),
      lifetime: { notBefore: now - KEY_PACKAGE_BACKDATE_SECONDS, notAfter: now + lifetime },
      extensions: [makeCustomExtension({ extensionType: ExtensionId.lastResort, extensionData: new Uint8Array(0) })],
      // RFC 9420 13.3: struct { opaque application_id<V>; }, so the inbox id
      // carries its own length prefix inside the extension data, as libxmtp writes it.
      leafNodeExtensions: [{ extensionType: ExtensionId.applicationId, extensionData: vector(utf8(inboxId)) }],
      signatureKeyPair: { signKey: signer.privateKey, publicKey },
      cipherSuite: nodeCiphersuite(),
    });
    return {
      keyPackage: encode(keyPackageEncoder, publicPackage),
      privateKeyPackage: encode(privateKeyPackageEncoder, privatePackage),
      initKey: publicPackage.initKey,
      // ed25519PublicKey returns 32 bytes (RFC 8032 section 5.1.5).
      installationKey: publicKey as InstallationKey,
    };
  });
}

/** A key package that passed `validateKeyPackage`. */
export interface ValidatedKeyPackage {
  readonly inboxId: InboxId;
  readonly installationKey: InstallationKey;
  readonly initKey: Uint8Array;
  readonly notBefore: bigint;
  readonly notAfter: bigint;
  readonly isLastResort: boolean;
  /** KeyPackageRef (RFC 9420 5.2), the id a Welcome addresses. */
  readonly ref: Uint8Array;
}

/** The public fields only: the engine's decoded form stays inside this package. */
export function publicView(c: CheckedKeyPackage): ValidatedKeyPackage {
  return {
    inboxId: c.inboxId,
    installationKey: c.installationKey,
    initKey: c.initKey,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    isLastResort: c.isLastResort,
    ref: c.ref,
  };
}

/** A validated key package with the engine's decoded form, for this package only. */
export interface CheckedKeyPackage extends ValidatedKeyPackage {
  readonly keyPackage: KeyPackage;
}

export interface ValidateKeyPackageOptions {
  readonly nowSeconds?: bigint;
}

/** Accepts a bare KeyPackage or one inside an MLSMessage. */
export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  // A bare KeyPackage starts version(0x0001) suite(0x0003); an MLSMessage
  // starts version(0x0001) wire_format(0x0005): suite 3 vs 5 tells them apart.
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === MLS10 && bytes[2] === 0 && bytes[3] === wireformats.mls_key_package) {
    const message = decodeExactly(mlsMessageDecoder, bytes, "KeyPackage");
    if (message.wireformat !== wireformats.mls_key_package || !("keyPackage" in message)) {
      throw new MlsError("mls.unexpected_wire_format", "KeyPackage: not a key package");
    }
    return message.keyPackage;
  }
  return decodeExactly(keyPackageDecoder, bytes, "KeyPackage");
}

/**
 * Parses and checks a KeyPackage from the network: suite 3, both
 * signatures, the lifetime (covers now, not longer than XMTP's), the XMTP
 * credential, distinct init and leaf keys, and the capabilities XMTP groups
 * require. Needs no secrets; this is what the node runs on upload.
 *
 * @throws MlsError `mls.malformed`, `mls.unsupported_ciphersuite`,
 *   `mls.bad_signature`, `mls.expired_key_package`, `mls.bad_key_package`.
 */
export async function validateKeyPackage(
  bytes: Uint8Array,
  options: ValidateKeyPackageOptions = {},
): Promise<ValidatedKeyPackage> {
  return publicView(await checkKeyPackage(decodeKeyPackage(bytes), options));
}

/**
 * The checks of `validateKeyPackage` on a decoded key package.
 * `signaturesCheckedLater` is for the commit path only, where ts-mls
 * verifies both signatures itself when it takes the Add: checking them twice
 * cost two Ed25519 verifies per added member.
 */
export async function checkKeyPackage(
  kp: KeyPackage,
  options: ValidateKeyPackageOptions & { readonly signaturesCheckedLater?: boolean } = {},
): Promise<CheckedKeyPackage> {
  if (kp.version !== MLS10) throw new MlsError("mls.bad_key_package", "KeyPackage: not MLS 1.0");
  if (kp.cipherSuite !== CIPHERSUITE) throw new MlsError("mls.unsupported_ciphersuite", "KeyPackage: not ciphersuite 3");
  const leaf = kp.leafNode;
  const installationKey = installationKeyOfLeaf(leaf.signaturePublicKey);
  if (options.signaturesCheckedLater !== true) {
    if (!ed25519Verify(installationKey, signContent("KeyPackageTBS", keyPackageTbsOf(kp)), kp.signature)) {
      throw new MlsError("mls.bad_signature", "KeyPackage: signature does not verify");
    }
    if (!ed25519Verify(installationKey, signContent("LeafNodeTBS", leafNodeTbsOf(kp)), leaf.signature)) {
      throw new MlsError("mls.bad_signature", "KeyPackage: leaf node signature does not verify");
    }
  }
  const now = nowOf(options.nowSeconds);
  const { notBefore, notAfter } = leaf.lifetime;
  if (notBefore > now || notAfter < now) throw new MlsError("mls.expired_key_package", "KeyPackage: lifetime does not cover now");
  if (notAfter - notBefore > MAX_KEY_PACKAGE_LIFETIME_SECONDS) {
    throw new MlsError("mls.expired_key_package", "KeyPackage: lifetime longer than allowed");
  }
  const inboxId = inboxIdOfCredential(leaf.credential);
  if (kp.initKey.length !== X25519_KEY_LENGTH || leaf.hpkePublicKey.length !== X25519_KEY_LENGTH) {
    throw new MlsError("mls.bad_key_package", "KeyPackage: HPKE keys must be 32-byte X25519 keys");
  }
  if (kp.initKey.every((b, i) => b === leaf.hpkePublicKey[i])) {
    throw new MlsError("mls.bad_key_package", "KeyPackage: init key equals the leaf encryption key");
  }
  const appId = leaf.extensions.find((e) => e.extensionType === ExtensionId.applicationId);
  if (appId !== undefined && applicationIdOf(appId.extensionData) !== inboxId) {
    throw new MlsError("mls.bad_key_package", "KeyPackage: ApplicationId is not the credential's inbox id");
  }
  const caps = leaf.capabilities;
  if (!caps.ciphersuites.includes(CIPHERSUITE) || !meetsRequiredCapabilities(caps, xmtpRequiredCapabilities())) {
    throw new MlsError("mls.bad_key_package", "KeyPackage: capabilities lack what XMTP groups require");
  }
  const ref = await makeKeyPackageRef(kp, nodeCiphersuite().hash);
  return {
    keyPackage: kp,
    inboxId,
    installationKey,
    initKey: kp.initKey,
    notBefore,
    notAfter,
    isLastResort: kp.extensions.some((e) => e.extensionType === ExtensionId.lastResort),
    ref,
  };
}

/** @throws MlsError `mls.malformed` */
export function decodePrivateKeyPackage(bytes: Uint8Array): PrivateKeyPackage {
  return decodeExactly(privateKeyPackageDecoder, bytes, "PrivateKeyPackage");
}

/** The application_id<V> of an ApplicationId extension (RFC 9420 13.3), or undefined if malformed. */
function applicationIdOf(extensionData: Uint8Array): string | undefined {
  const header = decodeVarint(extensionData, 0);
  if (header === undefined || header[1] + header[0] !== extensionData.length) return undefined;
  return new TextDecoder("utf-8", { fatal: false }).decode(extensionData.subarray(header[1]));
}
