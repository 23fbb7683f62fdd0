// Values between JavaScript and SQLite: better-sqlite3 takes and returns
// Buffers for BLOBs and, with safe integers on, bigints for INTEGERs. Every
// conversion copies, so a row read never shares memory with one written.

export const blob = (bytes: Uint8Array): Buffer => Buffer.from(bytes);

export const blobOrNull = (bytes: Uint8Array | undefined): Buffer | null => (bytes === undefined ? null : Buffer.from(bytes));

export const bytesOf = (value: Buffer): Uint8Array => new Uint8Array(value);

export const bytesOrUndefined = (value: Buffer | null): Uint8Array | undefined => (value === null ? undefined : new Uint8Array(value));
