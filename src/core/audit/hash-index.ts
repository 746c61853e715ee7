/**
 * The auditor's memory of every entry it has seen (DESIGN 5, 8: "no entry's bytes appear twice"):
 * 32-byte SHA-256 hashes, each with the index of the entry it was first seen at, in flat typed
 * arrays (about 45 bytes per entry, no per-entry objects for the garbage collector to trace),
 * rather than a Map of 71-character digest strings (about 150 bytes per entry).
 *
 * Open addressing with linear probing over a power-of-two table at most half full. The slot comes
 * from the first eight bytes of the hash mixed with a per-instance random seed, so a log crafted
 * to collide in a fixed slot function cannot make lookups slow.
 */
import { AccordError } from '../errors.ts';

const HASH_BYTES = 32;
const INITIAL_CAPACITY = 1024;
/** At most this many are reserved ahead (an unverified checkpoint may claim any size). */
const MAX_RESERVED = 1 << 22;

export class HashIndex {
  /** hashes[32 * n ..] is the n-th hash added. */
  #hashes: Uint8Array;
  #indexes: Float64Array;
  /** Slot -> 1 + n (0 = empty); length is a power of two, at least twice the count. */
  #table: Int32Array;
  #count = 0;
  readonly #seed0 = Math.floor(Math.random() * 0x1_0000_0000) | 0;
  readonly #seed1 = Math.floor(Math.random() * 0x1_0000_0000) | 0;

  /** `expected`: how many hashes to make room for at once (it grows beyond as needed). */
  constructor(expected = INITIAL_CAPACITY) {
    const capacity = Math.max(INITIAL_CAPACITY, Math.min(Math.floor(expected), MAX_RESERVED));
    this.#hashes = new Uint8Array(capacity * HASH_BYTES);
    this.#indexes = new Float64Array(capacity);
    let slots = INITIAL_CAPACITY * 2;
    while (slots < capacity * 2) slots *= 2;
    this.#table = new Int32Array(slots);
  }

  get size(): number {
    return this.#count;
  }

  /**
   * Records `hash` as seen at `index`, or, if it was seen before, returns the index it was first
   * seen at (and records nothing). -1 means new.
   */
  addOrGet(hash: Uint8Array, index: number): number {
    if (hash.length !== HASH_BYTES) throw new AccordError('AUDIT_MISUSE', `a hash is ${HASH_BYTES} bytes, got ${hash.length}`);
    const mask = this.#table.length - 1;
    for (let slot = this.#slot(hash) & mask; ; slot = (slot + 1) & mask) {
      const n = this.#table[slot] as number;
      if (n === 0) {
        if (this.#count === this.#indexes.length) this.#grow();
        const id = this.#count++;
        this.#hashes.set(hash, id * HASH_BYTES);
        this.#indexes[id] = index;
        this.#table[slot] = id + 1;
        if (this.#count * 2 > this.#table.length) this.#rehash();
        return -1;
      }
      if (this.#equals(n - 1, hash)) return this.#indexes[n - 1] as number;
    }
  }

  #slot(hash: Uint8Array): number {
    const w0 = (hash[0] as number) | ((hash[1] as number) << 8) | ((hash[2] as number) << 16) | ((hash[3] as number) << 24);
    const w1 = (hash[4] as number) | ((hash[5] as number) << 8) | ((hash[6] as number) << 16) | ((hash[7] as number) << 24);
    let h = Math.imul(w0 ^ this.#seed0, 0x9e3779b1) ^ Math.imul(w1 ^ this.#seed1, 0x85ebca77);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
  }

  #equals(id: number, hash: Uint8Array): boolean {
    const h = this.#hashes;
    const o = id * HASH_BYTES;
    for (let i = 0; i < HASH_BYTES; i++) if (h[o + i] !== hash[i]) return false;
    return true;
  }

  #grow(): void {
    const capacity = Math.ceil(this.#indexes.length * 1.5);
    const hashes = new Uint8Array(capacity * HASH_BYTES);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    const indexes = new Float64Array(capacity);
    indexes.set(this.#indexes);
    this.#indexes = indexes;
  }

  #rehash(): void {
    const table = new Int32Array(this.#table.length * 2);
    const mask = table.length - 1;
    for (let id = 0; id < this.#count; id++) {
      let slot = this.#slot(this.#hashes.subarray(id * HASH_BYTES, (id + 1) * HASH_BYTES)) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.#table = table;
  }
}
