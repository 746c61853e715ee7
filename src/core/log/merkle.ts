/**
 * RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification
 * (DESIGN section 5). Pure: no I/O.
 *
 * Sizes and indexes are JS numbers and must be safe integers (< 2^53): all arithmetic here uses
 * division and remainder, never 32-bit bitwise operators.
 *
 * Node coordinates: `(level, index)` names the COMPLETE subtree of height `level` covering leaves
 * [index * 2^level, (index + 1) * 2^level). Storage keeps exactly these hashes; the hash of a
 * right-edge incomplete subtree (needed for trees whose size is not a power of two) is computed
 * from complete ones by `subtreeHash`.
 */
import { bytesEqual, concatBytes, sha256 } from '../bytes.ts';
import { AccordError, describeValue } from '../errors.ts';

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);
const HASH_SIZE = 32;
/** A tree of at most 2^53 leaves has proofs of at most 53 hashes (plus one seed for consistency). */
const MAX_PROOF_LENGTH = 64;

/** RFC 9162 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, data));
}

/** RFC 9162 2.1.1 node hash, as `nodeHash` computes it. */
export type NodeHash = (left: Uint8Array, right: Uint8Array) => Uint8Array;

/** RFC 9162 2.1.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/** RFC 9162 2.1.1: the hash of an empty tree is the hash of the empty string. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** A complete subtree: height `level`, leaves [index * 2^level, (index + 1) * 2^level). */
export interface NodeId {
  level: number;
  index: number;
}

/** A node completed by `MerkleAccumulator.push`, ready for storage. */
export interface CompletedNode extends NodeId {
  hash: Uint8Array;
}

/** Returns the hash of the complete subtree at (level, index). Synchronous: storage pre-loads. */
export type GetNode = (level: number, index: number) => Uint8Array;

// ---------------------------------------------------------------------------------------------
// Small integer helpers on safe integers.

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** log2 of a power of two. */
function log2(n: number): number {
  let l = 0;
  for (let k = 1; k < n; k *= 2) l++;
  return l;
}

/** RFC 9162 2.1.1: "the largest power of two smaller than n" (n >= 2). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function badRequest(message: string): AccordError {
  return new AccordError('LOG_BAD_PROOF_REQUEST', message);
}

// ---------------------------------------------------------------------------------------------
// Subtrees from complete nodes.

/**
 * The complete subtrees whose hashes make up MTH(D[start:end]), left to right. The range must be
 * one the RFC 9162 2.1.1 recursion produces: if `end - start` is a power of two, `start` is a
 * multiple of it; otherwise `start` is a multiple of the largest power of two below `end - start`
 * (every left part then is complete, and the remainder is again such a range).
 */
export function subtreeNodes(start: number, end: number): NodeId[] {
  if (!isCount(start) || !isCount(end) || end <= start) {
    throw new AccordError('LOG_BAD_RANGE', `a subtree range needs 0 <= start < end, got [${describeValue(start)}, ${describeValue(end)})`);
  }
  const nodes: NodeId[] = [];
  let s = start;
  for (;;) {
    const width = end - s;
    if (isPowerOfTwo(width)) {
      if (s % width !== 0) break;
      nodes.push({ level: log2(width), index: s / width });
      return nodes;
    }
    const k = largestPowerOfTwoBelow(width);
    if (s % k !== 0) break;
    nodes.push({ level: log2(k), index: s / k });
    s += k;
  }
  throw new AccordError('LOG_BAD_RANGE', `leaves [${start}, ${end}) do not form an RFC 9162 subtree (start is not aligned)`);
}

/**
 * The complete subtrees covering a tree of `size` leaves, left to right (its compact range):
 * exactly the nodes `treeRoot` reads and `MerkleAccumulator.fromCover` needs.
 */
export function subtreeCover(size: number): NodeId[] {
  if (!isCount(size)) throw badRequest(`a tree size is a non-negative safe integer, got ${describeValue(size)}`);
  return size === 0 ? [] : subtreeNodes(0, size);
}

function readNode(getNode: GetNode, node: NodeId): Uint8Array {
  const h = getNode(node.level, node.index);
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new AccordError('LOG_BAD_NODE', `the node at level ${node.level}, index ${node.index} is not a 32-byte hash: ${describeValue(h)}`);
  }
  return h;
}

/** Folds complete subtree hashes (left to right) into the hash of their range: MTH is right-heavy. */
function foldRight(hashes: Uint8Array[], hashNodes: NodeHash = nodeHash): Uint8Array {
  let h = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) h = hashNodes(hashes[i] as Uint8Array, h);
  return h;
}

/** MTH(D[start:end]) (RFC 9162 2.1.1) from complete subtree hashes; see `subtreeNodes` for the ranges allowed. */
export function subtreeHash(start: number, end: number, getNode: GetNode): Uint8Array {
  return foldRight(subtreeNodes(start, end).map((n) => readNode(getNode, n)));
}

/** The root of the tree of `size` leaves (the empty-tree hash for 0). */
export function treeRoot(size: number, getNode: GetNode): Uint8Array {
  if (!isCount(size)) throw badRequest(`a tree size is a non-negative safe integer, got ${describeValue(size)}`);
  return size === 0 ? emptyRoot() : subtreeHash(0, size, getNode);
}

// ---------------------------------------------------------------------------------------------
// Building trees.

/**
 * A streaming Merkle tree: keeps only the roots of the complete subtrees along the right edge
 * (at most 53 hashes), so a log of any size is hashed in flat memory.
 */
export class MerkleAccumulator {
  #stack: Uint8Array[] = [];
  #size = 0;
  readonly #nodeHash: NodeHash;

  /**
   * `hashNodes` computes RFC 9162's node hash; callers on Node inject one that hashes with
   * node:crypto (the sequencer: src/node/sha256.ts), with the same results.
   */
  constructor(hashNodes: NodeHash = nodeHash) {
    this.#nodeHash = hashNodes;
  }

  /** Resumes a tree from the hashes of `subtreeCover(size)`, in that order. */
  static fromCover(size: number, hashes: Uint8Array[], hashNodes: NodeHash = nodeHash): MerkleAccumulator {
    const cover = subtreeCover(size);
    if (!Array.isArray(hashes) || hashes.length !== cover.length) {
      throw new AccordError('LOG_BAD_NODE', `a tree of size ${size} is covered by ${cover.length} subtrees, got ${Array.isArray(hashes) ? hashes.length : describeValue(hashes)} hashes`);
    }
    const acc = new MerkleAccumulator(hashNodes);
    for (const [i, h] of hashes.entries()) {
      if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
        throw new AccordError('LOG_BAD_NODE', `cover hash ${i} is not a 32-byte hash: ${describeValue(h)}`);
      }
      acc.#stack.push(Uint8Array.from(h));
    }
    acc.#size = size;
    return acc;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Appends a leaf hash; returns the nodes this completes, the leaf itself (level 0) first, then
   * each parent up to the highest node finished by this leaf.
   */
  push(leaf: Uint8Array): CompletedNode[] {
    if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE) {
      throw new AccordError('LOG_BAD_NODE', `a leaf hash is 32 bytes, got ${describeValue(leaf)}`);
    }
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new AccordError('LOG_TOO_LARGE', 'the tree has reached 2^53 - 1 leaves');
    let h: Uint8Array = Uint8Array.from(leaf);
    let index = this.#size;
    let level = 0;
    const done: CompletedNode[] = [{ level, index, hash: h }];
    // Each trailing 1 bit of the old size is a complete left sibling now joined by this leaf.
    while (isOdd(index)) {
      h = this.#nodeHash(this.#stack.pop() as Uint8Array, h);
      index = half(index);
      level++;
      done.push({ level, index, hash: h });
    }
    this.#stack.push(h);
    this.#size++;
    return done;
  }

  /** RFC 9162 2.1.1 MTH of the leaves pushed so far. */
  root(): Uint8Array {
    return this.#stack.length === 0 ? emptyRoot() : foldRight(this.#stack, this.#nodeHash);
  }

  /** The hashes of `subtreeCover(size)`, left to right (copies). */
  cover(): Uint8Array[] {
    return this.#stack.map((h) => Uint8Array.from(h));
  }
}

/** RFC 9162 2.1.1 MTH of a list of leaf hashes. */
export function rootFromLeafHashes(hashes: Iterable<Uint8Array>): Uint8Array {
  const acc = new MerkleAccumulator();
  for (const h of hashes) acc.push(h);
  return acc.root();
}

// ---------------------------------------------------------------------------------------------
// Generating proofs (RFC 9162 2.1.3.1 and 2.1.4.1), as leaf ranges, then as hashes.

type Range = [start: number, end: number];

/** RFC 9162 2.1.3.1 PATH(m, D[n]) as the ranges whose MTH are the proof hashes, leaf first. */
function inclusionRanges(index: number, size: number): Range[] {
  if (!isCount(index) || !isCount(size) || index >= size) {
    throw badRequest(`an inclusion proof needs 0 <= index < size, got index ${describeValue(index)} and size ${describeValue(size)}`);
  }
  const ranges: Range[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (index < start + k) {
      ranges.push([start + k, end]); // PATH(m, D[0:k]) : MTH(D[k:n])
      end = start + k;
    } else {
      ranges.push([start, start + k]); // PATH(m - k, D[k:n]) : MTH(D[0:k])
      start += k;
    }
  }
  return ranges.reverse();
}

/** RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as ranges, deepest first. */
function consistencyRanges(m: number, n: number): Range[] {
  if (!isCount(m) || !isCount(n) || m > n) {
    throw badRequest(`a consistency proof needs 0 < old size <= new size, got ${describeValue(m)} and ${describeValue(n)}`);
  }
  if (m === 0) throw badRequest('a consistency proof from the empty tree is meaningless (every tree extends it)');
  const ranges: Range[] = [];
  let start = 0;
  let end = n;
  let complete = true; // the b flag: is D[start:m] the whole old tree?
  for (;;) {
    if (m === end) {
      if (!complete) ranges.push([start, end]); // SUBPROOF(m, D[m], false) = {MTH(D[m])}
      break;
    }
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= start + k) {
      ranges.push([start + k, end]); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      end = start + k;
    } else {
      ranges.push([start, start + k]); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      start += k;
      complete = false;
    }
  }
  return ranges.reverse();
}

function nodesOf(ranges: Range[]): NodeId[] {
  return ranges.flatMap(([s, e]) => subtreeNodes(s, e));
}

/** The complete nodes `inclusionProof(index, size, ...)` reads: load these, then generate. */
export function nodesNeededForInclusion(index: number, size: number): NodeId[] {
  return nodesOf(inclusionRanges(index, size));
}

/** The complete nodes `consistencyProof(m, n, ...)` reads. */
export function nodesNeededForConsistency(m: number, n: number): NodeId[] {
  return nodesOf(consistencyRanges(m, n));
}

/** RFC 9162 2.1.3.1 inclusion proof for leaf `index` in the tree of `size`, ordered from the leaf up. */
export function inclusionProof(index: number, size: number, getNode: GetNode): Uint8Array[] {
  return inclusionRanges(index, size).map(([s, e]) => subtreeHash(s, e, getNode));
}

/** RFC 9162 2.1.4.1 consistency proof between the trees of sizes m and n (0 < m <= n; empty when m = n). */
export function consistencyProof(m: number, n: number, getNode: GetNode): Uint8Array[] {
  return consistencyRanges(m, n).map(([s, e]) => subtreeHash(s, e, getNode));
}

// ---------------------------------------------------------------------------------------------
// Verifying proofs (RFC 9162 2.1.3.2 and 2.1.4.2). Edge cases follow transparency-dev/merkle and
// the vectors in ../shared/vectors/merkle.

function invalid(message: string): AccordError {
  return new AccordError('LOG_PROOF_INVALID', message);
}

function checkHash(h: unknown, what: string): Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw invalid(`${what} is not a 32-byte hash: ${describeValue(h)}`);
  return h;
}

function checkProofArray(proof: unknown): Uint8Array[] {
  if (!Array.isArray(proof)) throw invalid(`a proof is an array of hashes, got ${describeValue(proof)}`);
  if (proof.length > MAX_PROOF_LENGTH) throw invalid(`a proof has at most ${MAX_PROOF_LENGTH} hashes, got ${proof.length}`);
  return proof.map((h, i) => checkHash(h, `proof hash ${i}`));
}

/**
 * RFC 9162 2.1.3.2: the root that `proof` yields for `leaf` at `index` in a tree of `size`.
 * Throws LOG_PROOF_INVALID if the proof has the wrong shape for that index and size.
 */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, size: number, proof: Uint8Array[]): Uint8Array {
  if (!isCount(index) || !isCount(size)) {
    throw invalid(`index and size are non-negative safe integers, got ${describeValue(index)} and ${describeValue(size)}`);
  }
  if (index >= size) throw invalid(`leaf index ${index} is not below the tree size ${size}`);
  let r = checkHash(leaf, 'the leaf hash');
  const path = checkProofArray(proof);
  let fn = index;
  let sn = size - 1;
  for (const p of path) {
    if (sn === 0) throw invalid(`the proof has ${path.length} hashes, more than a tree of size ${size} needs for leaf ${index}`);
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw invalid(`the proof has ${path.length} hashes, fewer than a tree of size ${size} needs for leaf ${index}`);
  return r;
}

/** RFC 9162 2.1.3.2. Throws LOG_PROOF_INVALID saying why. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): void {
  const computed = rootFromInclusionProof(leaf, index, size, proof);
  checkHash(root, 'the expected root');
  if (!bytesEqual(computed, root)) throw invalid(`the inclusion proof for leaf ${index} does not lead to the root of the tree of size ${size}`);
}

/** RFC 9162 2.1.4.2. Throws LOG_PROOF_INVALID saying why. */
export function verifyConsistency(m: number, n: number, proof: Uint8Array[], oldRoot: Uint8Array, newRoot: Uint8Array): void {
  if (!isCount(m) || !isCount(n)) throw invalid(`tree sizes are non-negative safe integers, got ${describeValue(m)} and ${describeValue(n)}`);
  if (m > n) throw invalid(`the old size ${m} is larger than the new size ${n}`);
  if (m === 0) {
    // As transparency-dev/merkle and its vectors: a proof from the empty tree proves nothing.
    throw invalid('a consistency proof from the empty tree is meaningless; compare sizes and roots instead');
  }
  const path = checkProofArray(proof);
  if (m === n) {
    if (path.length !== 0) throw invalid(`sizes are equal (${m}) but the proof has ${path.length} hashes`);
    if (!(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array) || !bytesEqual(oldRoot, newRoot)) {
      throw invalid(`sizes are equal (${m}) but the roots differ`);
    }
    return;
  }
  if (path.length === 0) throw invalid(`the proof from size ${m} to ${n} is empty`); // 2.1.4.2 step 1
  const first = checkHash(oldRoot, 'the old root');
  const second = checkHash(newRoot, 'the new root');
  // Step 2: if m is a power of two, the old root itself is the first subtree hash.
  const hashes = isPowerOfTwo(m) ? [first, ...path] : path;
  // Steps 3-4.
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = hashes[0] as Uint8Array;
  let sr = fr;
  // Step 6.
  for (const c of hashes.slice(1)) {
    if (sn === 0) throw invalid(`the proof from size ${m} to ${n} has ${path.length} hashes, too many`);
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) throw invalid(`the proof from size ${m} to ${n} has ${path.length} hashes, too few`);
  if (!bytesEqual(fr, first)) throw invalid(`the proof does not lead to the old root of size ${m}`);
  if (!bytesEqual(sr, second)) throw invalid(`the proof does not lead to the new root of size ${n}`);
}

function checkOf(f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof AccordError) return false;
    throw e;
  }
}

/** Boolean form of `verifyInclusion`. */
export function checkInclusion(leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  return checkOf(() => verifyInclusion(leaf, index, size, proof, root));
}

/** Boolean form of `verifyConsistency`. */
export function checkConsistency(m: number, n: number, proof: Uint8Array[], oldRoot: Uint8Array, newRoot: Uint8Array): boolean {
  return checkOf(() => verifyConsistency(m, n, proof, oldRoot, newRoot));
}
