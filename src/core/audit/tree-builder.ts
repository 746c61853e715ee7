/**
 * The auditor's rebuild of the log's Merkle tree (RFC 9162 2.1.1) from leaf hashes in index order,
 * with an injectable SHA-256: core/log/merkle.ts's MerkleAccumulator is the same algorithm with the
 * portable hash, which costs the command line's main thread more than everything else it does per
 * entry. Flat memory: one hash per level (the compact range of the leaves so far).
 *
 * test/audit/tree-builder.test.ts checks it against MerkleAccumulator and the RFC 6962 vectors.
 */
import type { Sha256 } from './entry-check.ts';

/** Receives each complete subtree a leaf finishes: height `level` >= 1, leaves [index·2^level, (index+1)·2^level). */
export type NodeSink = (level: number, index: number, hash: Uint8Array) => void;

export class TreeBuilder {
  readonly #sha256: Sha256;
  /** Hashes of the perfect subtrees covering the leaves so far, largest (leftmost) first. */
  readonly #stack: Uint8Array[] = [];
  #size = 0;
  /** 0x01 || left || right (RFC 9162 2.1.1 node hash input), reused: hashing is synchronous. */
  readonly #node = new Uint8Array(65);

  constructor(sha256: Sha256) {
    this.#sha256 = sha256;
    this.#node[0] = 0x01;
  }

  get size(): number {
    return this.#size;
  }

  #nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
    this.#node.set(left, 1);
    this.#node.set(right, 33);
    return this.#sha256(this.#node);
  }

  /** Appends a leaf hash (32 bytes); `sink` hears of every parent node it completes. */
  push(leaf: Uint8Array, sink?: NodeSink): void {
    let h = leaf;
    let index = this.#size;
    let level = 0;
    // Each trailing 1 bit of the old size is a complete left sibling now joined by this leaf.
    while (index % 2 === 1) {
      h = this.#nodeHash(this.#stack.pop() as Uint8Array, h);
      index = (index - 1) / 2;
      level++;
      sink?.(level, index, h);
    }
    this.#stack.push(level === 0 ? Uint8Array.from(leaf) : h);
    this.#size++;
  }

  /** MTH of the leaves pushed so far (RFC 9162 2.1.1); SHA-256 of nothing for none. */
  root(): Uint8Array {
    const s = this.#stack;
    if (s.length === 0) return this.#sha256(new Uint8Array(0));
    let r = s[s.length - 1] as Uint8Array;
    for (let i = s.length - 2; i >= 0; i--) r = this.#nodeHash(s[i] as Uint8Array, r);
    return r;
  }
}
