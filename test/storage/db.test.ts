import { sql, Migrator } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256, utf8 } from '../../src/core/bytes.ts';
import { openDatabase, type DatabaseHandle } from '../../src/storage/db.ts';
import { insertCheckpoint, getLatestCheckpoint } from '../../src/storage/checkpoints-repo.ts';
import { countEntries, getEntry, insertEntries } from '../../src/storage/entries-repo.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { getNode, insertNodes } from '../../src/storage/tree-repo.ts';
import { useEngines } from './engines.ts';

const engines = useEngines();

function entry(index: number) {
  const bytes = utf8(`{"entry":${index}}`);
  return { index, digest: `sha256:${index.toString(16).padStart(64, '0')}`, bytes, type: 'AccordPledge', subject: 'did:web:example.com', validFrom: '2026-12-01T10:00:00Z' };
}

describe.each(engines)('openDatabase on $name', (engine) => {
  const open: DatabaseHandle[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  async function fresh(): Promise<{ handle: DatabaseHandle; dataDir: string; databaseUrl: string | undefined }> {
    const where = await engine.fresh();
    const handle = await openDatabase(where);
    open.push(handle);
    return { handle, ...where };
  }

  describe('when opened for the first time', () => {
    it('runs every migration, and a second open finds nothing left to run', async () => {
      const { handle, dataDir, databaseUrl } = await fresh();
      expect(handle.engine).toBe(engine.name);
      const migrator = new Migrator({ db: handle.db, provider: migrationProvider(handle.engine) });
      const listed = await migrator.getMigrations();
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((m) => m.executedAt !== undefined)).toBe(true);
      const again = await openDatabase({ dataDir, databaseUrl });
      open.push(again);
      const { results } = await new Migrator({ db: again.db, provider: migrationProvider(again.engine) }).migrateToLatest();
      expect(results).toEqual([]);
      expect(await countEntries(again.db)).toBe(0);
    });
  });

  it('dates the notice of a signatory state stored before notices kept their date (2026-12-02-notice-dates)', async () => {
    const { handle } = await fresh();
    await insertEntries(handle.db, [0, 1, 2].map((i) => ({ ...entry(i), validFrom: `2026-12-01T10:00:0${i}Z` })));
    const legacy = { did: 'did:web:gone.example', delisted: true, notice: { action: 'delist', reason: 'r', index: 2 } };
    const dated = { did: 'did:web:dated.example', delisted: true, notice: { action: 'delist', reason: 'r', index: 1, validFrom: '2026-11-30T00:00:00Z' } };
    for (const s of [legacy, dated, { did: 'did:web:none.example', notice: null }]) {
      await handle.db.insertInto('signatories').values({ did: s.did, domain: s.did.slice(8), name: null, status: 'delisted', since: null, updated_idx: 2, state: JSON.stringify(s) }).execute();
    }
    // As if the database had been migrated before this migration existed.
    await handle.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '2026-12-02-notice-dates' as never).execute();
    const { results } = await new Migrator({ db: handle.db, provider: migrationProvider(handle.engine) }).migrateToLatest();
    expect(results?.map((r) => [r.migrationName, r.status])).toEqual([['2026-12-02-notice-dates', 'Success']]);
    const state = async (did: string) => JSON.parse((await handle.db.selectFrom('signatories').select('state').where('did', '=', did).executeTakeFirstOrThrow()).state) as Record<string, unknown>;
    expect(await state('did:web:gone.example')).toEqual({ ...legacy, notice: { ...legacy.notice, validFrom: '2026-12-01T10:00:02Z' } });
    expect(await state('did:web:dated.example')).toEqual(dated);
    expect(await state('did:web:none.example')).toEqual({ did: 'did:web:none.example', notice: null });
  });

  if (engine.name === 'sqlite') {
    it('sets WAL, synchronous FULL, a busy timeout and foreign keys', async () => {
      const { handle } = await fresh();
      const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(handle.db)).rows[0] as object)[0];
      expect(String(await pragma('journal_mode')).toLowerCase()).toBe('wal');
      expect(await pragma('synchronous')).toBe(2); // FULL
      expect(await pragma('busy_timeout')).toBe(10_000);
      expect(await pragma('foreign_keys')).toBe(1);
    });
  }

  describe('the log tables', () => {
    // One seeded database for all attacks: each is refused and must leave it unchanged.
    let seeded: DatabaseHandle;
    beforeAll(async () => {
      seeded = await openDatabase(await engine.fresh());
      await insertEntries(seeded.db, [entry(0), entry(1)]);
      await insertNodes(seeded.db, [{ level: 0, index: 0, hash: sha256(utf8('a')) }]);
      await insertCheckpoint(seeded.db, { size: 2, root: sha256(utf8('r')), note: 'note', createdAt: '2026-12-01T10:00:00Z' });
    });
    afterAll(async () => {
      await seeded.close();
    });

    const attacks: [string, string][] = [
      ['UPDATE on entries', `update entries set type = 'RegistryNotice' where idx = 0`],
      ['DELETE on entries', 'delete from entries where idx = 1'],
      ['UPDATE on tree_nodes', 'update tree_nodes set idx = 5'],
      ['DELETE on tree_nodes', 'delete from tree_nodes'],
      ['UPDATE on checkpoints', `update checkpoints set note = 'forged'`],
      ['DELETE on checkpoints', 'delete from checkpoints'],
      ['an insert that skips an index', `insert into entries (idx, digest, bytes, type, subject, valid_from) values (5, 'sha256:x', ${engine.name === 'sqlite' ? "x'01'" : "'\\x01'::bytea"}, 't', 's', 'v')`],
      ['a checkpoint that goes back', `insert into checkpoints (size, root, note, created_at) values (1, ${engine.name === 'sqlite' ? 'randomblob(32)' : "decode(repeat('00', 32), 'hex')"}, 'n', 'c')`],
      ['a checkpoint beyond the stored entries', `insert into checkpoints (size, root, note, created_at) values (3, ${engine.name === 'sqlite' ? 'randomblob(32)' : "decode(repeat('00', 32), 'hex')"}, 'n', 'c')`],
      ...(engine.name === 'sqlite'
        ? ([
            ['INSERT OR REPLACE of an entry', `insert or replace into entries (idx, digest, bytes, type, subject, valid_from) values (0, 'sha256:y', x'02', 't', 's', 'v')`],
            ['INSERT OR REPLACE of an entry by digest', `insert or replace into entries (idx, digest, bytes, type, subject, valid_from) values (2, '${entry(0).digest}', x'02', 't', 's', 'v')`],
            ['INSERT OR REPLACE of a node', `insert or replace into tree_nodes (level, idx, hash) values (0, 0, randomblob(32))`],
            ['INSERT OR REPLACE of a checkpoint', `insert or replace into checkpoints (size, root, note, created_at) values (2, randomblob(32), 'forged', 'c')`],
          ] as [string, string][])
        : ([
            ['TRUNCATE of entries', 'truncate entries cascade'],
            ['TRUNCATE of checkpoints', 'truncate checkpoints'],
            ['an upsert of an entry', `insert into entries (idx, digest, bytes, type, subject, valid_from) values (0, 'sha256:y', '\\x02'::bytea, 't', 's', 'v') on conflict (idx) do update set type = 'x'`],
          ] as [string, string][])),
    ];

    describe.each(attacks)('when someone tries %s', (_what, statement) => {
      it('is refused by the database itself and nothing changes', async () => {
        const handle = seeded;
        await expect(sql.raw(statement).execute(handle.db)).rejects.toThrow(/append-only|refused|violates|conflict/i);
        expect(await countEntries(handle.db)).toBe(2);
        const e0 = await getEntry(handle.db, 0);
        expect(e0?.type).toBe('AccordPledge');
        expect(e0?.digest).toBe(entry(0).digest);
        expect(await getNode(handle.db, 0, 0)).toEqual(sha256(utf8('a')));
        const cp = await getLatestCheckpoint(handle.db);
        expect(cp?.size).toBe(2);
        expect(cp?.note).toBe('note');
      });
    });
  });
});

describe('openDatabase with a URL that is not PostgreSQL', () => {
  it('refuses with CONFIG_INVALID and does not echo the password', async () => {
    const err = await openDatabase({ dataDir: '/nonexistent', databaseUrl: 'mysql://user:secret@host/db' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(String((err as Error).message)).not.toContain('secret');
  });
});
