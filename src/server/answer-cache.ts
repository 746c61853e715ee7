/**
 * Answers (rendered pages, feeds, CSV) kept until the log grows. Everything a page shows is a
 * function of the log: entries are never changed (DESIGN 5), and the derived signatory table
 * changes only in the transaction that appends entries and a new, larger checkpoint (the
 * sequencer, also for the operator's own statements). So an answer computed when the latest
 * checkpoint had size n stays right for as long as the latest size is still n; the next request
 * after the log grew computes it again. The latest size is one index probe of the database, not a
 * number remembered in memory, so an append by another process on the same database (another web
 * process on PostgreSQL, `accord-admin` on SQLite) is seen at once.
 *
 * Concurrent requests for an answer being computed wait for that one computation instead of
 * starting their own. The cache is bounded by entries and by bytes (least recently used out
 * first), since keys carry request values (a domain, a page number, the Host header).
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';

export interface CachedAnswer {
  body: Buffer;
  /** A strong validator of the body (RFC 9110 8.8.3), so a client holding it gets 304. */
  etag: string;
}

export interface AnswerCacheOptions {
  maxEntries?: number;
  maxBytes?: number;
}

export const DEFAULT_MAX_ENTRIES = 512;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

interface Slot {
  size: number;
  answer: Promise<CachedAnswer>;
  bytes: number;
}

/** The body as bytes with its ETag (SHA-256, base64url, truncated: a validator, not a proof). */
export function cachedAnswer(body: string | Uint8Array): CachedAnswer {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return { body: buf, etag: `"${createHash('sha256').update(buf).digest('base64url').slice(0, 27)}"` };
}

export class AnswerCache {
  readonly #slots = new Map<string, Slot>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(opts: AnswerCacheOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Answers kept (tests). */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * The answer for `key` at log size `logSize`: the kept one if it was computed at that size (or
   * a later one), else `compute()`'s (kept once it resolves; a rejection is passed on and not kept).
   */
  get(key: string, logSize: number, compute: () => Promise<string | Uint8Array>): Promise<CachedAnswer> {
    const hit = this.#slots.get(key);
    // A request that read the size just before an append may be handed the newer answer: the log
    // only grows, so that is what it would have been shown a moment later anyway.
    if (hit !== undefined && hit.size >= logSize) {
      // Map order is insertion order: re-inserting makes the first key the least recently used.
      this.#slots.delete(key);
      this.#slots.set(key, hit);
      return hit.answer;
    }
    if (hit !== undefined) this.#drop(key, hit);
    const slot: Slot = { size: logSize, bytes: 0, answer: compute().then(cachedAnswer) };
    this.#slots.set(key, slot);
    slot.answer.then(
      (a) => {
        if (this.#slots.get(key) !== slot) return;
        slot.bytes = a.body.length;
        this.#bytes += slot.bytes;
        this.#evict();
      },
      () => {
        if (this.#slots.get(key) === slot) this.#slots.delete(key);
      },
    );
    this.#evict();
    return slot.answer;
  }

  #drop(key: string, slot: Slot): void {
    this.#slots.delete(key);
    this.#bytes -= slot.bytes;
  }

  #evict(): void {
    while (this.#slots.size > this.#maxEntries || (this.#bytes > this.#maxBytes && this.#slots.size > 1)) {
      const oldest = this.#slots.entries().next();
      if (oldest.done === true) return;
      this.#drop(oldest.value[0], oldest.value[1]);
    }
  }
}

/**
 * Sends a kept answer. The ETag is set before express's `send`, so express neither hashes the
 * body again nor sends it to a client that already holds it (304 on a matching If-None-Match).
 */
export function sendAnswer(res: Response, contentType: string, answer: CachedAnswer): void {
  res.set('ETag', answer.etag);
  res.type(contentType).send(answer.body);
}
