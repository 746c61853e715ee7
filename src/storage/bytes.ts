/**
 * Blob columns: both drivers return Node Buffers. The rest of the code works on plain
 * Uint8Arrays (a Buffer's pooled backing store and its different `slice` semantics have surprised
 * people), so rows are turned into Uint8Array views, without copying.
 */
export function asBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** What the drivers bind as a blob parameter: a Buffer view of the same memory. */
export function toBlob(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Rows per multi-row INSERT: well below SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
export const INSERT_CHUNK = 500;

export function chunks<T>(items: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
