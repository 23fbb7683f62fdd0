// The byte layout of the records the store keeps in BLOB columns (intent
// operations, welcome recipients): unsigned bytes, 32-bit big-endian
// lengths and counts, UTF-8 text. A reader never trusts a length: one that
// runs past the end, text that is not UTF-8, or bytes left over are a
// `client.bad_store`, so that a damaged row is refused rather than misread.
import { ClientError } from "../client-error.js";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class RecordWriter {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  #push(chunk: Uint8Array): this {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return this;
  }

  /** @throws RangeError outside 0..255: a bug of the caller, never input. */
  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`record: ${value} is not a byte`);
    return this.#push(Uint8Array.of(value));
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`record: ${value} is not a u32`);
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return this.#push(out);
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  bytes(value: Uint8Array): this {
    this.u32(value.length);
    return this.#push(value.slice());
  }

  string(value: string): this {
    return this.bytes(utf8.encode(value));
  }

  strings(values: readonly string[]): this {
    this.u32(values.length);
    for (const value of values) this.string(value);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

export class RecordReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #offset = 0;

  /** @param what names the record in errors (`intent 7 operation`). */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  fail(reason: string): ClientError {
    return new ClientError("client.bad_store", `${this.#what}: ${reason}`);
  }

  #take(n: number): Uint8Array {
    if (n > this.#bytes.length - this.#offset) throw this.fail("truncated");
    const out = this.#bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  u8(): number {
    return this.#take(1)[0]!;
  }

  u32(): number {
    const b = this.#take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw this.fail(`${value} is not a boolean`);
    return value === 1;
  }

  bytes(): Uint8Array {
    return this.#take(this.u32()).slice();
  }

  string(): string {
    try {
      return strictUtf8.decode(this.#take(this.u32()));
    } catch (cause) {
      if (cause instanceof ClientError) throw cause;
      throw new ClientError("client.bad_store", `${this.#what}: text is not UTF-8`, { cause });
    }
  }

  strings(): string[] {
    const count = this.u32();
    // Each string takes at least its 4-byte length: a count the rest cannot hold is refused before any work.
    if (count > (this.#bytes.length - this.#offset) / 4) throw this.fail("truncated");
    return Array.from({ length: count }, () => this.string());
  }

  /** @throws ClientError `client.bad_store` when bytes are left over. */
  end(): void {
    if (this.#offset !== this.#bytes.length) throw this.fail(`${this.#bytes.length - this.#offset} bytes left over`);
  }
}
