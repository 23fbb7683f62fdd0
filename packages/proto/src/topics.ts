// The kind byte that starts a topic of the bidirectional Subscribe
// (../shared/spec/xmtp-node-api.md section 1.5): `kind ‖ identifier`. xmtpd
// numbers more kinds the same way (section 6); XMTP V3's Subscribe takes
// these two, and any other kind is INVALID_ARGUMENT.
export const SubscribeTopicKind = {
  /** `0x00 ‖ group_id`: a group's messages. */
  groupMessages: 0x00,
  /** `0x01 ‖ installation_key`: an installation's welcomes. */
  welcomeMessages: 0x01,
} as const;

export type SubscribeTopicKind = (typeof SubscribeTopicKind)[keyof typeof SubscribeTopicKind];
