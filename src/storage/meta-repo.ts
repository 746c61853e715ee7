/**
 * Registry identity (DESIGN 6): the origin and both public keys, recorded on first start and
 * compared on every later start (registry-keys.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export const META_ORIGIN = 'origin';
export const META_LOG_PUBLIC_KEY = 'log_public_key';
export const META_ATTESTATION_PUBLIC_KEY = 'attestation_public_key';

type Db = Kysely<Database>;

export async function getMeta(db: Db, key: string): Promise<string | undefined> {
  const r = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return r?.value;
}

export async function getAllMeta(db: Db): Promise<Record<string, string>> {
  const rows = await db.selectFrom('meta').select(['key', 'value']).execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/**
 * Records values for keys not yet present and leaves existing ones alone (first writer wins, so
 * two processes starting together agree on one identity); returns what is recorded afterwards.
 */
export async function recordMetaIfAbsent(db: Db, values: Record<string, string>): Promise<Record<string, string>> {
  const rows = Object.entries(values).map(([key, value]) => ({ key, value }));
  if (rows.length > 0) {
    await db
      .insertInto('meta')
      .values(rows)
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }
  return getAllMeta(db);
}
