/**
 * Signed checkpoints, one per committed batch. The served checkpoint is always the largest
 * stored one, and rows are never changed, so what the registry serves never goes back (DESIGN 7).
 */
import type { Kysely } from 'kysely';
import { asBytes, toBlob } from './bytes.ts';
import type { Database } from './schema.ts';

export interface CheckpointRow {
  size: number;
  root: Uint8Array;
  /** The C2SP signed note text. */
  note: string;
  createdAt: string;
}

type Db = Kysely<Database>;

function toRow(r: { size: number; root: Uint8Array; note: string; created_at: string }): CheckpointRow {
  return { size: r.size, root: asBytes(r.root), note: r.note, createdAt: r.created_at };
}

export async function insertCheckpoint(db: Db, cp: CheckpointRow): Promise<void> {
  await db.insertInto('checkpoints').values({ size: cp.size, root: toBlob(cp.root), note: cp.note, created_at: cp.createdAt }).execute();
}

/** The largest stored checkpoint: two primary-key probes (max, then that row), whatever the log's size. */
export async function getLatestCheckpoint(db: Db): Promise<CheckpointRow | undefined> {
  const r = await db
    .selectFrom('checkpoints')
    .selectAll()
    .where('size', '=', (eb) => eb.selectFrom('checkpoints').select((e) => e.fn.max('size').as('m')))
    .executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

/** The size of the largest stored checkpoint (0 for an empty log): one index probe. */
export async function getLatestCheckpointSize(db: Db): Promise<number> {
  const r = await db.selectFrom('checkpoints').select((eb) => eb.fn.max('size').as('m')).executeTakeFirst();
  return r?.m === null || r?.m === undefined ? 0 : Number(r.m);
}

export async function getCheckpointBySize(db: Db, size: number): Promise<CheckpointRow | undefined> {
  const r = await db.selectFrom('checkpoints').selectAll().where('size', '=', size).executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

/** The newest n checkpoints, newest first. */
export async function getRecentCheckpoints(db: Db, n: number): Promise<CheckpointRow[]> {
  const rows = await db.selectFrom('checkpoints').selectAll().orderBy('size', 'desc').limit(n).execute();
  return rows.map(toRow);
}
