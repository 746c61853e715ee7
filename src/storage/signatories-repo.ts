/**
 * The registry as a table: each DID's latest SignatoryState, upserted by the sequencer in the same
 * transaction as the entries that changed it. Derived state (recomputable from the log), so
 * unlike the log tables it is updated in place.
 */
import { sql, type Kysely } from 'kysely';
import { signatoryStatus, type SignatoryState, type SignatoryStatus } from '../core/audit/registry-state.ts';
import { AccordError } from '../core/errors.ts';
import { chunks } from './bytes.ts';
import type { Database } from './schema.ts';

export interface SignatoryRow {
  did: string;
  domain: string;
  name: string | null;
  status: SignatoryStatus | null;
  since: string | null;
  /** Index of the log entry that last changed this signatory. */
  updatedIndex: number;
  state: SignatoryState;
}

export interface SignatoryListOptions {
  /** Case-insensitive substring of the name or the domain. */
  search?: string;
  /** One status; by default every DID that ever pledged (status not null). */
  status?: SignatoryStatus;
  order?: 'domain' | 'since';
  limit: number;
  offset?: number;
}

type Db = Kysely<Database>;

function parseState(json: string, did: string): SignatoryState {
  try {
    return JSON.parse(json) as SignatoryState;
  } catch (cause) {
    throw new AccordError('DB_STATE_CORRUPT', `the stored state of ${did} is not JSON`, { cause });
  }
}

function toRow(r: { did: string; domain: string; name: string | null; status: string | null; since: string | null; updated_idx: number; state: string }): SignatoryRow {
  return {
    did: r.did,
    domain: r.domain,
    name: r.name,
    status: r.status as SignatoryStatus | null,
    since: r.since,
    updatedIndex: r.updated_idx,
    state: parseState(r.state, r.did),
  };
}

/** did:web:example.com -> example.com (other DIDs are kept whole). */
export function domainOf(did: string): string {
  return did.startsWith('did:web:') ? did.slice('did:web:'.length) : did;
}

export async function getSignatory(db: Db, did: string): Promise<SignatoryRow | undefined> {
  const r = await db.selectFrom('signatories').selectAll().where('did', '=', did).executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

export async function getSignatoryByDomain(db: Db, domain: string): Promise<SignatoryRow | undefined> {
  const r = await db.selectFrom('signatories').selectAll().where('domain', '=', domain).executeTakeFirst();
  return r === undefined ? undefined : toRow(r);
}

export async function getSignatories(db: Db, dids: readonly string[]): Promise<Map<string, SignatoryRow>> {
  const out = new Map<string, SignatoryRow>();
  for (const part of chunks([...new Set(dids)])) {
    const rows = await db.selectFrom('signatories').selectAll().where('did', 'in', part).execute();
    for (const r of rows) out.set(r.did, toRow(r));
  }
  return out;
}

/** Inserts or replaces the state of each DID; `updatedIndex` is the entry that produced it. */
export async function upsertSignatories(db: Db, states: ReadonlyArray<{ state: SignatoryState; updatedIndex: number }>): Promise<void> {
  for (const part of chunks(states)) {
    await db
      .insertInto('signatories')
      .values(
        part.map(({ state, updatedIndex }) => ({
          did: state.did,
          domain: domainOf(state.did),
          name: state.name,
          status: signatoryStatus(state),
          since: state.since,
          updated_idx: updatedIndex,
          state: JSON.stringify(state),
        })),
      )
      .onConflict((oc) =>
        oc.column('did').doUpdateSet((eb) => ({
          domain: eb.ref('excluded.domain'),
          name: eb.ref('excluded.name'),
          status: eb.ref('excluded.status'),
          since: eb.ref('excluded.since'),
          updated_idx: eb.ref('excluded.updated_idx'),
          state: eb.ref('excluded.state'),
        })),
      )
      .execute();
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A page of the registry, and how many rows match in all. */
export async function listSignatories(db: Db, opts: SignatoryListOptions): Promise<{ rows: SignatoryRow[]; total: number }> {
  let q = db.selectFrom('signatories');
  q = opts.status === undefined ? q.where('status', 'is not', null) : q.where('status', '=', opts.status);
  if (opts.search !== undefined && opts.search !== '') {
    const pattern = `%${escapeLike(opts.search.toLowerCase())}%`;
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`lower(${eb.ref('name')}) like ${pattern} escape '\\'`,
        sql<boolean>`lower(${eb.ref('domain')}) like ${pattern} escape '\\'`,
      ]),
    );
  }
  const totalRow = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  let page = q.selectAll();
  page = opts.order === 'since' ? page.orderBy('since', 'desc').orderBy('domain') : page.orderBy('domain');
  const rows = await page
    .limit(opts.limit)
    .offset(opts.offset ?? 0)
    .execute();
  return { rows: rows.map(toRow), total: Number(totalRow?.n ?? 0) };
}

/** How many DIDs have each status (`signatory`, `withdrawn`, `delisted`). */
export async function countSignatoriesByStatus(db: Db): Promise<Record<SignatoryStatus, number>> {
  const rows = await db
    .selectFrom('signatories')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'is not', null)
    .groupBy('status')
    .execute();
  const out: Record<SignatoryStatus, number> = { signatory: 0, withdrawn: 0, delisted: 0 };
  for (const r of rows) if (r.status === 'signatory' || r.status === 'withdrawn' || r.status === 'delisted') out[r.status] = Number(r.n);
  return out;
}
