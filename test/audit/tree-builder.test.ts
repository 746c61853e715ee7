/**
 * The auditor's Merkle tree (core/audit/tree-builder.ts) against the core's MerkleAccumulator
 * (RFC 9162 2.1.1): same roots at every size, same completed nodes, with either SHA-256.
 */
import { describe, expect, it } from 'vitest';
import { nodeSha256 } from '../../src/node/sha256.ts';
import { portableSha256 } from '../../src/core/audit/entry-check.ts';
import { TreeBuilder } from '../../src/core/audit/tree-builder.ts';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { MerkleAccumulator, emptyRoot, leafHash } from '../../src/core/log/merkle.ts';

describe('TreeBuilder', () => {
  it.each([
    ['portable', portableSha256],
    ['node:crypto', nodeSha256],
  ])('has the root and completed nodes of MerkleAccumulator at every size up to 600 (%s SHA-256)', (_name, sha) => {
    const tree = new TreeBuilder(sha);
    const acc = new MerkleAccumulator();
    expect(toHex(tree.root())).toBe(toHex(emptyRoot()));
    for (let i = 0; i < 600; i++) {
      const leaf = leafHash(utf8(`leaf ${i}`));
      const nodes: string[] = [];
      tree.push(leaf, (level, index, hash) => nodes.push(`${level}/${index}/${toHex(hash)}`));
      const want = acc.push(leaf).filter((n) => n.level > 0).map((n) => `${n.level}/${n.index}/${toHex(n.hash)}`);
      expect(nodes).toEqual(want);
      expect(tree.size).toBe(i + 1);
      expect(toHex(tree.root())).toBe(toHex(acc.root()));
    }
  });

  it('keeps its own copy of a leaf hash', () => {
    const tree = new TreeBuilder(portableSha256);
    const leaf = leafHash(utf8('x'));
    const root = toHex(leaf);
    tree.push(leaf);
    leaf.fill(0);
    expect(toHex(tree.root())).toBe(root);
  });
});
