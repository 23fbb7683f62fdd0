// Who is in the stored-database fixtures, and what they left behind: shared
// by the script that writes a fixture and the tests that open it. The
// wallets are derived from fixed labels, so a test can name each user's
// address without keeping a secret beside the databases.
import { createHash } from "node:crypto";
import { createPrivateKeySigner, signerIdentifier, type Signer } from "@parley/identity";

export type FixtureUser = "alice" | "bob" | "carol";

export const FIXTURE_USERS: readonly FixtureUser[] = ["alice", "bob", "carol"];

export function fixtureSigner(user: FixtureUser): Signer {
  return createPrivateKeySigner(new Uint8Array(createHash("sha256").update(`parley client store fixture: ${user}`).digest()));
}

/** The lowercase address, as `Client.build` takes it. */
export async function fixtureAddress(user: FixtureUser): Promise<string> {
  const identifier = await signerIdentifier(fixtureSigner(user));
  if (identifier.kind !== "ethereum") throw new Error("fixture signers are Ethereum wallets");
  return identifier.address;
}

/** What the fixture's script did, by name: the tests check that all of it survives. */
export const FIXTURE = {
  firstGroupName: "fixture group",
  secondGroupName: "second group",
  firstGroupTexts: ["hello Bob", "hello Alice"],
  dmTexts: ["hi from Bob", "warm-up"],
  /** Alice's DM message whose send failed: stored, its intent `published`. */
  unsentDmText: "sent before the upgrade, delivered after",
  /** Alice's rename of the second group whose commit never reached the node: intent `published`. */
  unsentName: "renamed before the upgrade",
  /** The protocol version the first group was paused for (one this client reads). */
  pausedForVersion: "1.9.1",
} as const;
