/**
 * Messages between verify-pool.ts and verify-worker.ts. Bulk data travels as transferred
 * ArrayBuffers in fixed-size binary records, never as structured clones of objects or strings:
 * a tile of 256 entries costs a copy-free transfer each way, and nothing the receiving thread holds
 * for a tile read ahead lives on its JavaScript heap (where it would survive collections and make
 * the young generation grow, the main contributor to the auditor's peak memory).
 */
import type { PreparedEntry } from '../core/audit/entry-check.ts';
import { digestFromHash } from '../core/audit/entry-check.ts';
import { AccordError } from '../core/errors.ts';
import { TILE_WIDTH, decodeEntryBundle } from '../core/log/tiles.ts';
import type { Statement } from '../core/statements/types.ts';

export type PoolRequest =
  /**
   * Prepare the entry bundle (tlog-tiles) at buffer[bundleAt, bundleAt + bundleLength), whose first
   * entry has index `start`; records go to buffer[recordsAt, ...). The buffer travels back with
   * the reply.
   */
  | { id: number; kind: 'prepare'; start: number; buffer: ArrayBuffer; bundleAt: number; bundleLength: number; recordsAt: number }
  /** `count` signature checks packed as TASK_BYTES records; verdicts go after them, one byte each. */
  | { id: number; kind: 'verify'; buffer: ArrayBuffer; count: number };

export type PoolReply =
  | { id: number; kind: 'prepared'; buffer: ArrayBuffer; count: number; invalid: PackedTile['invalid'] }
  | { id: number; kind: 'bad-bundle'; buffer: ArrayBuffer; code: string; message: string }
  /** The request's buffer, verdicts (1 valid, 0 invalid) at count * TASK_BYTES. */
  | { id: number; kind: 'verified'; buffer: ArrayBuffer; count: number }
  /** A bug in the worker, not a finding: the run cannot check (exit 2). */
  | { id: number; kind: 'failed'; message: string };

/**
 * The prepared entries of one bundle: RECORD_BYTES per entry, the bundle itself (the auditing
 * thread parses a valid statement again from its bytes with JSON.parse, which gives the strictly
 * parsed value: the checking thread has checked it with the strict parser or the equivalent fast
 * path), and the refusals. Both byte views are in one buffer that the pool reuses.
 */
export interface PackedTile {
  start: number;
  count: number;
  records: Uint8Array;
  bundle: Uint8Array;
  invalid: { offset: number; code: string; message: string }[];
}

// Record layout: flags, where the entry sits in the bundle, leaf hash, hash of the bytes, hash of
// the canonical form, hashData, signature.
const FLAGS = 0;
const AT = 1; // uint32 offset of the entry's bytes in the bundle, uint16 length
const LEAF = AT + 6;
const BYTES_HASH = LEAF + 32;
const DIGEST = BYTES_HASH + 32;
const HASH_DATA = DIGEST + 32;
const SIGNATURE = HASH_DATA + 64;
export const RECORD_BYTES = SIGNATURE + 64;
const F_STATEMENT = 1;
const F_CANONICAL = 2;
const F_SIGNATURE = 4;

/** Public key, signature, hashData (vc-di-eddsa 3.3.4: always 64 bytes). */
export const TASK_BYTES = 32 + 64 + 64;

/**
 * Where each entry of a tlog-tiles bundle sits (offset of its bytes, length), without copying
 * them. A bundle this walk does not accept is handed to decodeEntryBundle, so its refusal (code
 * and message) is exactly the core's.
 */
export function entrySpans(bundle: Uint8Array): { offsets: number[]; lengths: number[] } {
  const offsets: number[] = [];
  const lengths: number[] = [];
  let o = 0;
  while (o + 2 <= bundle.length && offsets.length < TILE_WIDTH) {
    const len = ((bundle[o] as number) << 8) | (bundle[o + 1] as number);
    if (o + 2 + len > bundle.length) break;
    offsets.push(o + 2);
    lengths.push(len);
    o += 2 + len;
  }
  if (o !== bundle.length || offsets.length === 0) {
    decodeEntryBundle(bundle); // throws TILE_BAD_BUNDLE with the reason
    throw new AccordError('TILE_BAD_BUNDLE', 'bad entry bundle'); // unreachable: the walks agree
  }
  return { offsets, lengths };
}

/** Writes prepared entries into a PackedTile as they come, so each entry's objects die young. */
export class TilePacker {
  readonly tile: PackedTile;
  readonly #view: DataView;

  constructor(start: number, bundle: Uint8Array, records: Uint8Array, count: number) {
    this.tile = { start, count, records, bundle, invalid: [] };
    this.#view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  }

  /** Entry `i` of the tile, whose bytes are bundle[offset, offset + length). */
  add(i: number, e: PreparedEntry, offset: number, length: number): void {
    const { records, invalid } = this.tile;
    const o = i * RECORD_BYTES;
    this.#view.setUint32(o + AT, offset);
    this.#view.setUint16(o + AT + 4, length);
    records.set(e.leafHash, o + LEAF);
    records.set(e.bytesHash, o + BYTES_HASH);
    let flags = 0;
    if (e.statement !== null && e.digest !== null) {
      flags |= F_STATEMENT;
      if (e.canonical) flags |= F_CANONICAL;
      records.set(e.canonical ? e.bytesHash : hashOfDigest(e.digest), o + DIGEST);
      if (e.hashData !== null && e.signature !== null && e.hashData.length === 64) {
        flags |= F_SIGNATURE;
        records.set(e.hashData, o + HASH_DATA);
        records.set(e.signature, o + SIGNATURE);
      }
    } else {
      invalid.push({ offset: i, ...(e.invalid ?? { code: 'UNKNOWN', message: 'not a statement' }) });
    }
    records[o + FLAGS] = flags;
  }
}

function hashOfDigest(digest: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(digest.slice(7 + 2 * i, 9 + 2 * i), 16);
  return out;
}

const decoder = new TextDecoder();

/**
 * Entry `i` of a packed tile again, its statement re-parsed; the byte views share the records.
 * One at a time, when the caller is ready for it, so that at most one parsed statement is alive.
 */
export function unpackEntry(tile: PackedTile, i: number): PreparedEntry {
  const r = tile.records;
  const o = i * RECORD_BYTES;
  const flags = r[o + FLAGS] as number;
  const valid = (flags & F_STATEMENT) !== 0;
  const signed = (flags & F_SIGNATURE) !== 0;
  let invalid: { code: string; message: string } | null = null;
  let statement: Statement | null = null;
  if (valid) {
    const view = new DataView(r.buffer, r.byteOffset + o + AT, 6);
    const offset = view.getUint32(0);
    statement = JSON.parse(decoder.decode(tile.bundle.subarray(offset, offset + view.getUint16(4)))) as Statement;
  } else {
    const found = tile.invalid.find((x) => x.offset === i);
    invalid = found === undefined ? { code: 'UNKNOWN', message: 'not a statement' } : { code: found.code, message: found.message };
  }
  return {
    index: tile.start + i,
    leafHash: r.subarray(o + LEAF, o + LEAF + 32),
    bytesHash: r.subarray(o + BYTES_HASH, o + BYTES_HASH + 32),
    statement,
    digest: valid ? digestFromHash(r.subarray(o + DIGEST, o + DIGEST + 32)) : null,
    canonical: (flags & F_CANONICAL) !== 0,
    invalid,
    hashData: signed ? r.subarray(o + HASH_DATA, o + HASH_DATA + 64) : null,
    signature: signed ? r.subarray(o + SIGNATURE, o + SIGNATURE + 64) : null,
  };
}

/** A task as the worker sees it. */
export function packTask(out: Uint8Array, at: number, publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): void {
  const o = at * TASK_BYTES;
  out.set(publicKey, o);
  out.set(signature, o + 32);
  out.set(message, o + 96);
}

export function taskParts(tasks: Uint8Array, at: number): { publicKey: Uint8Array; signature: Uint8Array; message: Uint8Array } {
  const o = at * TASK_BYTES;
  return { publicKey: tasks.subarray(o, o + 32), signature: tasks.subarray(o + 32, o + 96), message: tasks.subarray(o + 96, o + 160) };
}
