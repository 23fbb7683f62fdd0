// Byte helpers for the node:crypto provider. node:crypto returns Buffers;
// ts-mls expects plain Uint8Arrays and may `.slice()` them expecting a copy
// (Buffer#slice shares memory), so every result is copied out once here.
import { timingSafeEqual } from "node:crypto";

/** A plain Uint8Array copy of `buf`, never a view into a Buffer pool. */
export function plain(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf);
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Constant-time equality for MACs and tags. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Big-endian `n` in `len` bytes (RFC 9180 I2OSP). */
export function i2osp(n: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = n;
  for (let i = len - 1; i >= 0 && v > 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

export function fromHex(s: string): Uint8Array {
  return plain(Buffer.from(s, "hex"));
}

/**
 * Runs a synchronous operation behind ts-mls's async interfaces: a throw
 * becomes a rejection, as from an async function.
 */
export function lift<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
