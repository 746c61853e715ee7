/**
 * Signatory states keep the date of their latest registry notice (`notice.validFrom`, read by
 * `statusSince` in core/audit/registry-state.ts) since this migration; states stored before it
 * get the date from the notice's own entry. A delisted signatory cannot submit, so without this its
 * state would never be written again and its delisting would stay undated. RELEASED: never edit.
 */
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against the schema of their day, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Only states that hold a notice object (JSON.stringify writes it as "notice":{...}).
  const rows = (await db.selectFrom('signatories').select(['did', 'state']).where('state', 'like', '%"notice":{%').execute()) as { did: string; state: string }[];
  for (const r of rows) {
    const state = JSON.parse(r.state) as { notice?: { index?: unknown; validFrom?: unknown } | null };
    const notice = state.notice;
    if (notice === null || notice === undefined || typeof notice.validFrom === 'string' || typeof notice.index !== 'number') continue;
    const entry = (await db.selectFrom('entries').select('valid_from').where('idx', '=', notice.index).executeTakeFirst()) as { valid_from: string } | undefined;
    if (entry === undefined) continue;
    state.notice = { ...notice, validFrom: entry.valid_from };
    await db.updateTable('signatories').set({ state: JSON.stringify(state) }).where('did', '=', r.did).execute();
  }
}
