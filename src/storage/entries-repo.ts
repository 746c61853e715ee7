/**
 * Log entries: the statements exactly as logged. Rows are only ever inserted (by the sequencer,
 * inside its write transaction); the database refuses anything else.
 */
import { sql, type Kysely } from 'kysely';
import { asBytes, chunks, toBlob } from './bytes.ts';
import type { Database } from './schema.ts';

export interface EntryRow {
  index: number;
  digest: string;
  bytes: Uint8Array;
  type: string;
  /** The DID or accord URN the statement is about. */
  subject: string;
  validFrom: string;
}

/** An entry without its bytes, for listings. */
export type EntrySummary = Omit<EntryRow, 'bytes'>;

type Db = Kysely<Database>;

const SUMMARY = ['idx', 'digest', 'type', 'subject', 'valid_from'] as const;

function toRow(r: { idx: number; digest: string; bytes: Uint8Array; type: string; subject: string; valid_from: string }): EntryRow {
  return { index: r.idx, digest: r.digest, bytes: asBytes(r.bytes), type: r.type, subject: r.subject, validFrom: r.valid_from };
}

function toSummary(r: { idx: number; digest: string; type: string; subject: string; valid_from: string }): EntrySummary {
  return { index: r.idx, digest: r.digest, type: r.type, subject: r.subject, validFrom: r.valid_from };
}

export async function insertEntries(db: Db, rows: readonly EntryRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    await db
      .insertInto('entries')
      .values(part.map((e) => ({ idx: e.index, digest: e.digest, bytes: toBlob(e.bytes), type: e.type, subject: e.subject, valid_from: e.validFrom })))
      .execute();
  }
}

/** The number of stored entries (max index + 1): one index probe, not a count of rows. */
export async function countEntries(db: Db): Promise<number> {
  const r = await db.selectFrom('entries').select((eb) => eb.fn.max('idx').as('m')).executeTakeFirst();
  const m = r?.m;
  return m === null || m === undefined ? 0 : Number(m) + 1;
}

export async function getEntry(db: Db, index: number): Promise<EntryRow | undefined> {
  const r = await db.selectFrom('entries').selectAll().where('idx', '=', index).executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

/** Entries with start <= index < end, in index order. */
export async function getEntriesRange(db: Db, start: number, end: number): Promise<EntryRow[]> {
  const rows = await db.selectFrom('entries').selectAll().where('idx', '>=', start).where('idx', '<', end).orderBy('idx').execute();
  return rows.map(toRow);
}

/** Just the bytes of entries start <= index < end, in index order (entry bundles). */
export async function getEntryBytesRange(db: Db, start: number, end: number): Promise<Uint8Array[]> {
  const rows = await db.selectFrom('entries').select(['bytes']).where('idx', '>=', start).where('idx', '<', end).orderBy('idx').execute();
  return rows.map((r) => asBytes(r.bytes));
}

export async function getEntryByDigest(db: Db, digest: string): Promise<EntryRow | undefined> {
  const r = await db.selectFrom('entries').selectAll().where('digest', '=', digest).executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

/** The index of the entry with this digest, if logged: an index-only lookup (the digest index holds idx). */
export async function findEntryIndex(db: Db, digest: string): Promise<number | undefined> {
  const r = await db.selectFrom('entries').select('idx').where('digest', '=', digest).executeTakeFirst();
  return r?.idx;
}

/** Index of each digest already logged (digests not logged are absent from the map). */
export async function findIndexesByDigest(db: Db, digests: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const part of chunks([...new Set(digests)])) {
    const rows = await db.selectFrom('entries').select(['digest', 'idx']).where('digest', 'in', part).execute();
    for (const r of rows) found.set(r.digest, r.idx);
  }
  return found;
}

/**
 * A signatory's statements (or an accord's texts), oldest first: all of them unless `limit` says
 * otherwise (the signatory page walks the whole history and the proof bundle holds all of it, so a
 * silent cap would drop the latest statements of a long history).
 */
export async function getEntriesBySubject(db: Db, subject: string, opts: { limit?: number; type?: string } = {}): Promise<EntryRow[]> {
  let q = db.selectFrom('entries').selectAll().where('subject', '=', subject);
  if (opts.type !== undefined) q = q.where('type', '=', opts.type);
  const rows = await (opts.limit === undefined ? q.orderBy('idx') : q.orderBy('idx').limit(opts.limit)).execute();
  return rows.map(toRow);
}

/** How many entries are about a subject (one range count of the subject index). */
export async function countEntriesBySubject(db: Db, subject: string): Promise<number> {
  const r = await db
    .selectFrom('entries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subject', '=', subject)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/**
 * Entries about a subject without their bytes, oldest first: those at positions
 * `offset <= i < offset + limit` of the subject's own list (for a page of a signatory's history).
 */
export async function getEntrySummariesBySubject(db: Db, subject: string, opts: { offset: number; limit: number }): Promise<EntrySummary[]> {
  const rows = await db.selectFrom('entries').select(SUMMARY).where('subject', '=', subject).orderBy('idx').limit(opts.limit).offset(opts.offset).execute();
  return rows.map(toSummary);
}

/** The latest entry of a type about a subject (e.g. a signatory's latest DomainAttestation). */
export async function getLatestBySubjectAndType(db: Db, subject: string, type: string): Promise<EntryRow | undefined> {
  const r = await db
    .selectFrom('entries')
    .selectAll()
    .where('subject', '=', subject)
    .where('type', '=', type)
    .orderBy('idx', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

/** The newest entries (of `types`, if given), newest first; `before` pages backwards (exclusive index). */
export async function getRecentEntries(db: Db, opts: { limit: number; before?: number; types?: readonly string[] }): Promise<EntrySummary[]> {
  let q = db.selectFrom('entries').select(SUMMARY);
  if (opts.before !== undefined) q = q.where('idx', '<', opts.before);
  if (opts.types !== undefined) q = q.where('type', 'in', [...opts.types]);
  const rows = await q.orderBy('idx', 'desc').limit(opts.limit).execute();
  return rows.map(toSummary);
}

/** How many entries of each type the log holds. */
export async function countEntriesByType(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('entries')
    .select(['type', sql<number>`count(*)`.as('n')])
    .groupBy('type')
    .execute();
  const out: Record<string, number> = {};
  for (const r of rows) out[r.type] = Number(r.n);
  return out;
}

/** Every AccordText entry, oldest first (few: one per accord version). */
export async function getAccordEntries(db: Db): Promise<EntryRow[]> {
  const rows = await db.selectFrom('entries').selectAll().where('type', '=', 'AccordText').orderBy('idx').execute();
  return rows.map(toRow);
}

/** The AccordText entry with this digest, if any. */
export async function getAccordByDigest(db: Db, digest: string): Promise<EntryRow | undefined> {
  const r = await db.selectFrom('entries').selectAll().where('digest', '=', digest).where('type', '=', 'AccordText').executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

/** The AccordText entry whose subject (the accord's URN, e.g. urn:accord:tech-sector:1) is `id`. */
export async function getAccordById(db: Db, id: string): Promise<EntryRow | undefined> {
  const r = await db
    .selectFrom('entries')
    .selectAll()
    .where('subject', '=', id)
    .where('type', '=', 'AccordText')
    .orderBy('idx')
    .limit(1)
    .executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}
