/**
 * Merkle tree node hashes: every complete subtree at every level (schema.ts). Written once by the
 * sequencer; read by the log reader for tiles and proofs, a bounded number of rows each.
 */
import type { Kysely } from 'kysely';
import { concatBytes } from '../core/bytes.ts';
import { asBytes, chunks, toBlob } from './bytes.ts';
import type { Database } from './schema.ts';

export interface TreeNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

type Db = Kysely<Database>;

export function nodeKey(level: number, index: number): string {
  return `${level}/${index}`;
}

export async function insertNodes(db: Db, nodes: readonly TreeNode[]): Promise<void> {
  for (const part of chunks(nodes)) {
    await db
      .insertInto('tree_nodes')
      .values(part.map((n) => ({ level: n.level, idx: n.index, hash: toBlob(n.hash) })))
      .execute();
  }
}

export async function getNode(db: Db, level: number, index: number): Promise<Uint8Array | undefined> {
  const r = await db.selectFrom('tree_nodes').select('hash').where('level', '=', level).where('idx', '=', index).executeTakeFirst();
  return r === undefined ? undefined : asBytes(r.hash);
}

/**
 * The nodes at the given coordinates, keyed by nodeKey(level, index); missing nodes are absent.
 * One statement per 200 coordinates (a proof needs at most ~2 log2 n, so one statement).
 */
export async function getNodes(db: Db, ids: ReadonlyArray<{ level: number; index: number }>): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const unique = [...new Map(ids.map((n) => [nodeKey(n.level, n.index), n])).values()];
  for (const part of chunks(unique, 200)) {
    const rows = await db
      .selectFrom('tree_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) => eb.or(part.map((n) => eb.and([eb('level', '=', n.level), eb('idx', '=', n.index)]))))
      .execute();
    for (const r of rows) found.set(nodeKey(r.level, r.idx), asBytes(r.hash));
  }
  return found;
}

/** Hashes at `level` for indexes start <= i < end, in order (one range read of the primary key). */
export async function getNodesRange(db: Db, level: number, start: number, end: number): Promise<Uint8Array[]> {
  const rows = await db
    .selectFrom('tree_nodes')
    .select('hash')
    .where('level', '=', level)
    .where('idx', '>=', start)
    .where('idx', '<', end)
    .orderBy('idx')
    .execute();
  return rows.map((r) => asBytes(r.hash));
}

/**
 * A tlog-tiles hash tile: the concatenated hashes at `level` for start <= i < end, or undefined if
 * any of them is not stored.
 */
export async function getTileBytes(db: Db, level: number, start: number, end: number): Promise<Uint8Array | undefined> {
  const hashes = await getNodesRange(db, level, start, end);
  return hashes.length === end - start ? concatBytes(...hashes) : undefined;
}
