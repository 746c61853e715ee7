import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, sha256, toBase64 } from '../../../src/core/bytes.ts';
import { isAccordError } from '../../../src/core/errors.ts';
import {
  checkConsistency,
  checkInclusion,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  nodesNeededForConsistency,
  nodesNeededForInclusion,
  rootFromInclusionProof,
  rootFromLeafHashes,
  subtreeCover,
  subtreeHash,
  subtreeNodes,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/core/log/merkle.ts';
import { completeLevels, leavesOf, nodeGetter, referenceRoot, VECTORS_DIR } from './fixtures.ts';
import { codeOf } from '../../helpers/errors.ts';

const MERKLE = join(VECTORS_DIR, 'merkle');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

interface InclusionVector { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyVector { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

const inclusionFiles = walk(join(MERKLE, 'inclusion')).sort();
const consistencyFiles = walk(join(MERKLE, 'consistency')).sort();
const load = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;
const b64 = (s: string): Uint8Array => fromBase64(s);
const proofOf = (p: string[] | null): Uint8Array[] => (p ?? []).map(b64);

/** The RFC 6962 test leaves that transparency-dev/merkle built its vectors from (proof/verify_test.go). */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((x) => leafHash(fromHex(x)));

describe('verifyInclusion', () => {
  describe('on the transparency-dev/merkle vectors', () => {
    it('reads a non-trivial number of vector files', () => {
      expect(inclusionFiles.length).toBeGreaterThan(80);
    });
    for (const file of inclusionFiles) {
      const v = load<InclusionVector>(file);
      const name = `${relative(MERKLE, file)} (${v.desc})`;
      it(`${name}: ${v.wantErr ? 'fails with LOG_PROOF_INVALID' : 'verifies'}`, () => {
        const run = (): void => verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, proofOf(v.proof), b64(v.root));
        expect(codeOf(run)).toBe(v.wantErr ? 'LOG_PROOF_INVALID' : undefined);
        expect(checkInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, proofOf(v.proof), b64(v.root))).toBe(!v.wantErr);
      });
    }
  });

  describe('when the proof is one hash short', () => {
    it('fails with LOG_PROOF_INVALID saying too few', () => {
      const levels = completeLevels(leavesOf(13));
      const proof = inclusionProof(4, 13, nodeGetter(levels));
      try {
        verifyInclusion(levels[0]![4]!, 4, 13, proof.slice(0, -1), referenceRoot(levels[0]!));
        expect.unreachable();
      } catch (e) {
        expect(isAccordError(e, 'LOG_PROOF_INVALID')).toBe(true);
        expect((e as Error).message).toMatch(/fewer/);
      }
    });
  });

  describe('when a proof hash is not 32 bytes', () => {
    it('fails with LOG_PROOF_INVALID rather than hashing it', () => {
      const levels = completeLevels(leavesOf(2));
      expect(codeOf(() => verifyInclusion(levels[0]![0]!, 0, 2, [new Uint8Array(31)], referenceRoot(levels[0]!)))).toBe('LOG_PROOF_INVALID');
    });
  });

  describe('when given hostile values instead of numbers and arrays', () => {
    it('fails with LOG_PROOF_INVALID, never a TypeError', () => {
      const leaf = new Uint8Array(32);
      expect(codeOf(() => verifyInclusion(leaf, -1, 2, [], leaf))).toBe('LOG_PROOF_INVALID');
      expect(codeOf(() => verifyInclusion(leaf, 0.5, 2, [], leaf))).toBe('LOG_PROOF_INVALID');
      expect(codeOf(() => verifyInclusion(leaf, 0, 2 ** 53, [], leaf))).toBe('LOG_PROOF_INVALID');
      expect(codeOf(() => verifyInclusion(leaf, 0, 2, null as unknown as Uint8Array[], leaf))).toBe('LOG_PROOF_INVALID');
      expect(codeOf(() => verifyInclusion('x' as unknown as Uint8Array, 0, 1, [], leaf))).toBe('LOG_PROOF_INVALID');
      expect(codeOf(() => verifyInclusion(leaf, 0, 2, Array.from({ length: 65 }, () => leaf), leaf))).toBe('LOG_PROOF_INVALID');
    });
  });
});

describe('verifyConsistency', () => {
  describe('on the transparency-dev/merkle vectors', () => {
    it('reads a non-trivial number of vector files', () => {
      expect(consistencyFiles.length).toBeGreaterThan(80);
    });
    for (const file of consistencyFiles) {
      const v = load<ConsistencyVector>(file);
      const name = `${relative(MERKLE, file)} (${v.desc})`;
      it(`${name}: ${v.wantErr ? 'fails with LOG_PROOF_INVALID' : 'verifies'}`, () => {
        const run = (): void => verifyConsistency(v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2));
        expect(codeOf(run)).toBe(v.wantErr ? 'LOG_PROOF_INVALID' : undefined);
        expect(checkConsistency(v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2))).toBe(!v.wantErr);
      });
    }
  });

  describe('when the old size is 0', () => {
    it('fails with LOG_PROOF_INVALID whatever the roots (callers compare sizes instead)', () => {
      const empty = emptyRoot();
      expect(codeOf(() => verifyConsistency(0, 0, [], empty, empty))).toBe('LOG_PROOF_INVALID');
    });
  });
});

describe('proof generation', () => {
  describe('on the RFC 6962 test leaves', () => {
    const levels = completeLevels(CT_LEAVES);
    const getNode = nodeGetter(levels);
    const happy = (dir: string): string[] => walk(join(MERKLE, dir)).filter((f) => f.endsWith('happy-path.json') || f.endsWith('matching-root-and-leaf.json'));

    it('gives exactly the happy-path inclusion proofs of the vectors', () => {
      const files = happy('inclusion').filter((f) => !f.includes('single-entry'));
      expect(files.length).toBeGreaterThanOrEqual(5);
      for (const f of files) {
        const v = load<InclusionVector>(f);
        expect(toBase64(treeRoot(v.treeSize, getNode))).toBe(v.root);
        expect(toBase64(CT_LEAVES[v.leafIdx]!)).toBe(v.leafHash);
        expect(inclusionProof(v.leafIdx, v.treeSize, getNode).map(toBase64)).toEqual(v.proof ?? []);
      }
    });

    it('gives exactly the happy-path consistency proofs of the vectors', () => {
      const files = happy('consistency');
      expect(files.length).toBeGreaterThanOrEqual(5);
      for (const f of files) {
        const v = load<ConsistencyVector>(f);
        expect(toBase64(treeRoot(v.size1, getNode))).toBe(v.root1);
        expect(toBase64(treeRoot(v.size2, getNode))).toBe(v.root2);
        expect(consistencyProof(v.size1, v.size2, getNode).map(toBase64)).toEqual(v.proof ?? []);
      }
    });
  });

  describe('over random tree sizes', () => {
    const sizeAndIndex = fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
    const sizes = fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));

    it('makes inclusion proofs that verify and that fail once mutated', () => {
      fc.assert(
        fc.property(sizeAndIndex, fc.nat(), ([n, i], pick) => {
          const leaves = leavesOf(n, `${n}:`);
          const levels = completeLevels(leaves);
          const root = referenceRoot(leaves);
          const proof = inclusionProof(i, n, nodeGetter(levels));
          verifyInclusion(leaves[i]!, i, n, proof, root);
          expect(rootFromInclusionProof(leaves[i]!, i, n, proof)).toEqual(root);
          expect(nodesNeededForInclusion(i, n).length).toBeGreaterThanOrEqual(proof.length);
          if (proof.length > 0) {
            const k = pick % proof.length;
            const flipped = proof.map((p, j) => (j === k ? p.map((b, x) => (x === 0 ? b ^ 1 : b)) : p));
            expect(checkInclusion(leaves[i]!, i, n, flipped, root)).toBe(false);
            expect(checkInclusion(leaves[i]!, i, n, proof.slice(1), root)).toBe(false);
          }
          expect(checkInclusion(leaves[i]!, i, n, [...proof, root], root)).toBe(false);
          expect(checkInclusion(leaves[i]!, (i + 1) % n, n, proof, root)).toBe(n === 1);
        }),
        { numRuns: 150 },
      );
    });

    it('makes consistency proofs that verify and that fail once mutated', () => {
      fc.assert(
        fc.property(sizes, fc.nat(), ([m, n], pick) => {
          const leaves = leavesOf(n, `c${n}:`);
          const levels = completeLevels(leaves);
          const oldRoot = referenceRoot(leaves.slice(0, m));
          const newRoot = referenceRoot(leaves);
          const proof = consistencyProof(m, n, nodeGetter(levels));
          verifyConsistency(m, n, proof, oldRoot, newRoot);
          expect(nodesNeededForConsistency(m, n).length).toBeGreaterThanOrEqual(proof.length);
          if (proof.length > 0) {
            const k = pick % proof.length;
            const flipped = proof.map((p, j) => (j === k ? p.map((b, x) => (x === 5 ? b ^ 16 : b)) : p));
            expect(checkConsistency(m, n, flipped, oldRoot, newRoot)).toBe(false);
            expect(checkConsistency(m, n, proof.slice(0, -1), oldRoot, newRoot)).toBe(false);
          }
          expect(checkConsistency(m, n, [...proof, newRoot], oldRoot, newRoot)).toBe(false);
          if (m < n) {
            expect(checkConsistency(m, n, proof, newRoot, oldRoot)).toBe(false);
            expect(checkConsistency(m, n, proof, oldRoot, referenceRoot(leavesOf(n, 'other')))).toBe(false);
          }
        }),
        { numRuns: 150 },
      );
    });

    it('reads only the nodes it lists as needed', () => {
      fc.assert(
        fc.property(sizes, ([m, n]) => {
          const levels = completeLevels(leavesOf(n));
          const read = new Set<string>();
          const getNode = nodeGetter(levels);
          const spy = (l: number, i: number): Uint8Array => {
            read.add(`${l}/${i}`);
            return getNode(l, i);
          };
          consistencyProof(m, n, spy);
          inclusionProof(m - 1, n, spy);
          const listed = new Set([...nodesNeededForConsistency(m, n), ...nodesNeededForInclusion(m - 1, n)].map((x) => `${x.level}/${x.index}`));
          expect(read).toEqual(listed);
          // O(log n): a proof reads at most two nodes per level.
          expect(listed.size).toBeLessThanOrEqual(4 * Math.ceil(Math.log2(n) + 1));
        }),
        { numRuns: 100 },
      );
    });

    it('computes the roots that the RFC definition gives', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 600 }), (n) => {
          const leaves = leavesOf(n, 'r');
          const expected = referenceRoot(leaves);
          expect(rootFromLeafHashes(leaves)).toEqual(expected);
          if (n > 0) expect(treeRoot(n, nodeGetter(completeLevels(leaves)))).toEqual(expected);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('at sizes near 2^53', () => {
    it('lists nodes inside the tree and makes proofs of the shape the verifier expects', () => {
      const fakeNode = (level: number, index: number): Uint8Array => sha256(new TextEncoder().encode(`${level}/${index}`));
      for (const [index, size] of [
        [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
        [2 ** 52, 2 ** 52 + 3],
        [12345, Number.MAX_SAFE_INTEGER],
      ] as const) {
        const nodes = nodesNeededForInclusion(index, size);
        for (const n of nodes) expect((n.index + 1) * 2 ** n.level).toBeLessThanOrEqual(size);
        const proof = inclusionProof(index, size, fakeNode);
        expect(proof.length).toBeLessThanOrEqual(53);
        expect(rootFromInclusionProof(fakeNode(0, index), index, size, proof)).toHaveLength(32);
        expect(() => rootFromInclusionProof(fakeNode(0, index), index, size, proof.slice(1))).toThrow(/fewer/);
      }
      const cproof = consistencyProof(2 ** 40 + 7, Number.MAX_SAFE_INTEGER, fakeNode);
      expect(cproof.length).toBeLessThanOrEqual(54);
    });
  });

  describe('when asked for an impossible proof', () => {
    const getNode = nodeGetter(completeLevels(leavesOf(4)));
    it('refuses with LOG_BAD_PROOF_REQUEST', () => {
      expect(codeOf(() => inclusionProof(4, 4, getNode))).toBe('LOG_BAD_PROOF_REQUEST');
      expect(codeOf(() => inclusionProof(-1, 4, getNode))).toBe('LOG_BAD_PROOF_REQUEST');
      expect(codeOf(() => consistencyProof(3, 2, getNode))).toBe('LOG_BAD_PROOF_REQUEST');
      expect(codeOf(() => consistencyProof(0, 2, getNode))).toBe('LOG_BAD_PROOF_REQUEST');
    });
    it('gives an empty consistency proof between equal sizes', () => {
      expect(consistencyProof(3, 3, getNode)).toEqual([]);
    });
  });

  describe('when storage returns something that is not a hash', () => {
    it('fails with LOG_BAD_NODE naming the node', () => {
      expect(codeOf(() => inclusionProof(0, 4, () => new Uint8Array(3)))).toBe('LOG_BAD_NODE');
    });
  });
});

describe('subtreeHash', () => {
  it('computes a right-edge incomplete subtree from complete nodes', () => {
    const leaves = leavesOf(23);
    const getNode = nodeGetter(completeLevels(leaves));
    expect(subtreeHash(16, 23, getNode)).toEqual(referenceRoot(leaves.slice(16, 23)));
    expect(subtreeNodes(16, 23)).toEqual([
      { level: 2, index: 4 },
      { level: 1, index: 10 },
      { level: 0, index: 22 },
    ]);
  });

  it('refuses a range the RFC recursion never produces', () => {
    expect(codeOf(() => subtreeNodes(1, 3))).toBe('LOG_BAD_RANGE');
    expect(codeOf(() => subtreeNodes(3, 3))).toBe('LOG_BAD_RANGE');
  });
});

describe('subtreeCover', () => {
  it('is the binary decomposition of the size, largest subtree first', () => {
    expect(subtreeCover(0)).toEqual([]);
    expect(subtreeCover(765)).toEqual([
      { level: 9, index: 0 },
      { level: 7, index: 4 },
      { level: 6, index: 10 },
      { level: 5, index: 22 },
      { level: 4, index: 46 },
      { level: 3, index: 94 },
      { level: 2, index: 190 },
      { level: 0, index: 764 },
    ]);
  });
});

describe('MerkleAccumulator', () => {
  it('has the empty-tree root SHA-256("") before any leaf', () => {
    expect(new MerkleAccumulator().root()).toEqual(sha256(new Uint8Array(0)));
  });

  it('reports every completed node, and those nodes are the tree', () => {
    const leaves = leavesOf(37);
    const levels = completeLevels(leaves);
    const acc = new MerkleAccumulator();
    const seen: string[] = [];
    for (const leaf of leaves) {
      for (const node of acc.push(leaf)) {
        expect(node.hash).toEqual(levels[node.level]![node.index]);
        seen.push(`${node.level}/${node.index}`);
      }
    }
    expect(seen.length).toBe(levels.reduce((n, l) => n + l.length, 0));
    expect(acc.size).toBe(37);
    expect(acc.root()).toEqual(referenceRoot(leaves));
  });

  it('resumes from its cover and reaches the same root', () => {
    const leaves = leavesOf(100);
    const a = new MerkleAccumulator();
    leaves.slice(0, 61).forEach((l) => a.push(l));
    const getNode = nodeGetter(completeLevels(leaves));
    const fromStorage = subtreeCover(61).map((n) => getNode(n.level, n.index));
    expect(a.cover()).toEqual(fromStorage);
    const b = MerkleAccumulator.fromCover(61, fromStorage);
    leaves.slice(61).forEach((l) => b.push(l));
    expect(b.root()).toEqual(referenceRoot(leaves));
  });

  it('refuses a cover of the wrong length', () => {
    expect(codeOf(() => MerkleAccumulator.fromCover(3, [new Uint8Array(32)]))).toBe('LOG_BAD_NODE');
  });
});
