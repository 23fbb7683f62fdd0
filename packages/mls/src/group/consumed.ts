// Secrets a step used up (RFC 9420 9: "deleted as soon as they are used"):
// ts-mls hands back, with each new state, the byte arrays of the old state
// that the new one no longer holds (ratchet secrets, the old epoch's init
// secret). They stay intact in the old state until the caller erases them,
// because the old state must stay valid until the new one is stored: a
// crash in between resumes from it. Once the new state is durable the
// caller erases them, and forward secrecy no longer waits for the garbage
// collector.

/** What a step used up: erase it with `eraseConsumed` once its new state is stored. */
export type Consumed = readonly Uint8Array[];

/** Overwrites every consumed secret with zeros; the old state can no longer use them. */
export function eraseConsumed(consumed: Consumed): void {
  for (const secret of consumed) secret.fill(0);
}
