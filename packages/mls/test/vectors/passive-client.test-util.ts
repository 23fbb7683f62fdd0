// The passive-client scenario (RFC 9420 12.4.3, 12.4.2): join by Welcome
// with the given private keys, then process each epoch's proposals and
// commit, checking the epoch authenticator after each. These run the
// engine's RFC behaviour with our provider; XMTP's stricter policy (no
// PublicMessages, authentication) is tested on our own API, not here.
import assert from "node:assert/strict";
import type { ClientState, MlsContext } from "ts-mls";
import { engine } from "../../src/engine/ts-mls.js";
const { bytesToBase64, joinGroup, mlsMessageDecoder, processPrivateMessage, processPublicMessage, unsafeTestingAuthenticationService } = engine;
import { nodeCiphersuite } from "../../src/crypto/provider.js";
import { ratchetTreeDecoder } from "./ts-mls-internals.js";
import { hex, toHex } from "./vectors.test-util.js";

export interface PassiveCase {
  cipher_suite: number;
  external_psks: { psk_id: string; psk: string }[];
  key_package: string;
  signature_priv: string;
  encryption_priv: string;
  init_priv: string;
  welcome: string;
  ratchet_tree: string | null;
  initial_epoch_authenticator: string;
  epochs: { proposals: string[]; commit: string; epoch_authenticator: string }[];
}

async function processOne(context: MlsContext, state: ClientState, bytes: string): Promise<ClientState> {
  const m = mlsMessageDecoder(hex(bytes), 0)?.[0];
  if (m?.wireformat === 2) return (await processPrivateMessage({ context, state, privateMessage: m.privateMessage })).newState;
  if (m?.wireformat === 1) return (await processPublicMessage({ context, state, publicMessage: m.publicMessage })).newState;
  assert.fail("handshake message is neither Public nor PrivateMessage");
}

export async function runPassiveClient(c: PassiveCase): Promise<void> {
  const cs = nodeCiphersuite(c.cipher_suite);
  const kp = mlsMessageDecoder(hex(c.key_package), 0)?.[0];
  const welcome = mlsMessageDecoder(hex(c.welcome), 0)?.[0];
  assert.ok(kp?.wireformat === 5 && welcome?.wireformat === 3);
  const externalPsks = Object.fromEntries(c.external_psks.map((p) => [bytesToBase64(hex(p.psk_id)), hex(p.psk)]));
  const context: MlsContext = { cipherSuite: cs, authService: unsafeTestingAuthenticationService, externalPsks };
  const ratchetTree = c.ratchet_tree === null ? undefined : ratchetTreeDecoder(hex(c.ratchet_tree), 0)?.[0];
  let state = await joinGroup({
    context,
    welcome: welcome.welcome,
    keyPackage: kp.keyPackage,
    privateKeys: {
      initPrivateKey: hex(c.init_priv),
      hpkePrivateKey: hex(c.encryption_priv),
      signaturePrivateKey: hex(c.signature_priv),
    },
    ...(ratchetTree === undefined ? {} : { ratchetTree }),
  });
  assert.equal(toHex(state.keySchedule.epochAuthenticator), c.initial_epoch_authenticator);
  for (const [n, epoch] of c.epochs.entries()) {
    for (const p of epoch.proposals) state = await processOne(context, state, p);
    state = await processOne(context, state, epoch.commit);
    assert.equal(toHex(state.keySchedule.epochAuthenticator), epoch.epoch_authenticator, `epoch ${n + 1}`);
  }
}
