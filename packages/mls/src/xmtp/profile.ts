// XMTP's MLS profile: the numbers libxmtp configures OpenMLS with, from
// ../shared/spec/xmtp-client.md section 1 (1.1 core parameters, 1.2 extension
// ids, 1.3 key packages, 1.4 group context). Everything here is a wire fact
// or a receiver-visible policy; change it only with that spec in hand.
import type { Capabilities, ClientConfig, RequiredCapabilities } from "ts-mls";
import {
  ciphersuites,
  defaultCredentialTypes,
  defaultExtensionTypes,
  defaultKeyPackageEqualityConfig,
  defaultProposalTypes,
  protocolVersions,
} from "../engine/ts-mls.js";

/** The one suite XMTP uses (spec 1.1): RFC 9420 section 17.1's 0x0003. */
export const CIPHERSUITE = ciphersuites.MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;
/** The only protocol version (RFC 9420 section 6). */
export const MLS10 = protocolVersions.mls10;
/** XMTP credentials are Basic (spec 1.3). */
export const BASIC_CREDENTIAL = defaultCredentialTypes.basic;

/** Extension type ids (spec 1.2): RFC 9420's by ts-mls's names, then OpenMLS's and libxmtp's. */
export const ExtensionId = {
  applicationId: defaultExtensionTypes.application_id,
  ratchetTree: defaultExtensionTypes.ratchet_tree,
  requiredCapabilities: defaultExtensionTypes.required_capabilities,
  /** The MLS extensions draft's LastResort, as OpenMLS numbers it; ts-mls has no name for it. */
  lastResort: 0x000a,
  immutableMetadata: 0xf000,
  mutableMetadata: 0xff00,
  groupMembership: 0xff01,
  groupPermissions: 0xff02,
  welcomeWrapperEncryption: 0xff03,
  welcomePointeeAeadTypes: 0xff04,
} as const;

export const GROUP_CONTEXT_EXTENSIONS_PROPOSAL = defaultProposalTypes.group_context_extensions;

/**
 * RFC 9420 section 7.2: the default extension types (0x0001-0x0005) and
 * proposal types (0x0001-0x0007) are supported by every client and need
 * not be listed in a leaf's capabilities.
 */
const defaultExtensionIds: ReadonlySet<number> = new Set(Object.values(defaultExtensionTypes));
const defaultProposalIds: ReadonlySet<number> = new Set(Object.values(defaultProposalTypes));

/** True when `capabilities` list every extension and proposal type of `required` that is not a default. */
export function meetsRequiredCapabilities(capabilities: Capabilities, required: RequiredCapabilities): boolean {
  return (
    required.extensionTypes.every((t) => capabilities.extensions.includes(t) || defaultExtensionIds.has(t)) &&
    required.proposalTypes.every((t) => capabilities.proposals.includes(t) || defaultProposalIds.has(t))
  );
}

/**
 * What a group requires of every leaf (spec 1.4), in libxmtp's order:
 * extensions [0xFF01, 0xFF00, 0xFF02, 0xF000, LastResort, ApplicationId],
 * proposals [GroupContextExtensions], credentials [Basic].
 */
export function xmtpRequiredCapabilities(): RequiredCapabilities {
  return {
    extensionTypes: [
      ExtensionId.groupMembership,
      ExtensionId.mutableMetadata,
      ExtensionId.groupPermissions,
      ExtensionId.immutableMetadata,
      ExtensionId.lastResort,
      ExtensionId.applicationId,
    ],
    proposalTypes: [GROUP_CONTEXT_EXTENSIONS_PROPOSAL],
    credentialTypes: [BASIC_CREDENTIAL],
  };
}

/**
 * Our leaves' capabilities. We advertise what the group requires and no
 * more: not 0xFF03/0xFF04 (we never publish an X-Wing key or take welcome
 * pointers, so libxmtp sends us plain Curve25519 welcomes, spec 2.1/2.4) and
 * not AppDataDictionary/AppDataUpdate (we do not implement the migration,
 * spec 3.10).
 */
export function xmtpCapabilities(): Capabilities {
  return {
    versions: [MLS10],
    ciphersuites: [CIPHERSUITE],
    extensions: [
      ExtensionId.lastResort,
      ExtensionId.applicationId,
      ExtensionId.immutableMetadata,
      ExtensionId.groupPermissions,
      ExtensionId.mutableMetadata,
      ExtensionId.groupMembership,
    ],
    proposals: [GROUP_CONTEXT_EXTENSIONS_PROPOSAL],
    credentials: [BASIC_CREDENTIAL],
  };
}

/** OpenMLS's default key package lifetime, which libxmtp keeps: 12 weeks. */
export const KEY_PACKAGE_LIFETIME_SECONDS = 60n * 60n * 24n * 28n * 3n;
/** OpenMLS back-dates not_before by an hour for clock skew. */
export const KEY_PACKAGE_BACKDATE_SECONDS = 60n * 60n;
/** The longest lifetime we accept from others: OpenMLS's span plus a day of slack. */
export const MAX_KEY_PACKAGE_LIFETIME_SECONDS = KEY_PACKAGE_LIFETIME_SECONDS + KEY_PACKAGE_BACKDATE_SECONDS + 86_400n;

/**
 * The most inboxes a group holds (libxmtp MAX_GROUP_SIZE, 250). Every inbox
 * a member must be authenticated costs an identity lookup, so a commit or
 * welcome naming more is refused before the lookup past the limit.
 */
export const MAX_GROUP_INBOXES = 250;

/** libxmtp MAX_PAST_EPOCHS: application messages up to 3 epochs old still decrypt. */
export const MAX_PAST_EPOCHS = 3;
/** OpenMLS SenderRatchetConfiguration::new(5, 1000), which libxmtp keeps. */
export const OUT_OF_ORDER_TOLERANCE = 5;
export const MAXIMUM_FORWARD_DISTANCE = 1000;

/** ts-mls's client configuration set as XMTP sets OpenMLS. */
export function xmtpClientConfig(): ClientConfig {
  return {
    keyRetentionConfig: {
      retainKeysForGenerations: OUT_OF_ORDER_TOLERANCE,
      retainKeysForEpochs: MAX_PAST_EPOCHS,
      maximumForwardRatchetSteps: MAXIMUM_FORWARD_DISTANCE,
    },
    lifetimeConfig: {
      maximumTotalLifetime: MAX_KEY_PACKAGE_LIFETIME_SECONDS,
      // ts-mls checks lifetimes only when we add someone unless told; we
      // check on receive as well (libxmtp skips it for
      // welcomes; we are stricter, see README).
      validateLifetimeOnReceive: true,
    },
    // Two key packages (or a key package and a leaf) are the same
    // installation when their signature keys are: XMTP's installation id.
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    // OpenMLS's padding_size 0: XMTP pads nothing.
    paddingConfig: { kind: "alwaysPad", paddingLength: 0 },
  };
}
