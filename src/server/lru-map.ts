/**
 * A Map with a bound: when full, setting a new key drops the least recently used one. For values
 * that are cheap to recompute but costly to keep unbounded (parsed entries, per-DID hints).
 * A JS Map iterates in insertion order, so re-inserting a key on every read keeps the least
 * recently used key first.
 */
import { AccordError } from '../core/errors.ts';

export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new AccordError('BAD_ARGUMENT', `an LRU map holds at least one entry, got ${max}`);
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
    this.#map.set(key, value);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }
}
