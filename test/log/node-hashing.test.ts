/**
 * The sequencer and admission hash with node:crypto (src/node/sha256.ts); the results must be the
 * core's digests and leaf hashes, which auditors recompute (DESIGN 2, 5).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestOf, sha256 } from '../../src/core/bytes.ts';
import { leafHash, MerkleAccumulator, nodeHash } from '../../src/core/log/merkle.ts';
import { digestOfNode, leafHashNode, nodeHashNode, sha256Node } from '../../src/node/sha256.ts';

describe('node:crypto hashing', () => {
  it('gives the core\'s SHA-256, digest and RFC 6962 leaf hash for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(sha256Node(bytes)).toEqual(sha256(bytes));
        expect(digestOfNode(bytes)).toBe(digestOf(bytes));
        expect(leafHashNode(bytes)).toEqual(leafHash(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the core\'s RFC 6962 node hash, and the same tree in MerkleAccumulator', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (l, r) => {
        expect(nodeHashNode(l, r)).toEqual(nodeHash(l, r));
      }),
      { numRuns: 100 },
    );
    const core = new MerkleAccumulator();
    const node = new MerkleAccumulator(nodeHashNode);
    for (let i = 0; i < 300; i++) {
      const leaf = leafHash(Uint8Array.of(i & 0xff, i >> 8));
      expect(node.push(leaf)).toEqual(core.push(leaf));
      if (i % 37 === 0) expect(node.root()).toEqual(core.root());
    }
    const resumed = MerkleAccumulator.fromCover(core.size, core.cover(), nodeHashNode);
    expect(resumed.root()).toEqual(core.root());
  });

  it('hashes a view into a larger buffer by the view alone', () => {
    const big = new Uint8Array(100).map((_, i) => i);
    const view = big.subarray(10, 20);
    expect(digestOfNode(view)).toBe(digestOf(Uint8Array.from(view)));
    expect(leafHashNode(view)).toEqual(leafHash(Uint8Array.from(view)));
  });
});
