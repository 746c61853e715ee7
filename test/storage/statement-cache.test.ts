/**
 * Prepared statements kept by SQL text (src/storage/statement-cache.ts): kysely prepares every
 * query again, so the registry's SQLite handle hands it the statement prepared before. Reuse must
 * never change an answer, and the number kept stays bounded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/storage/statement-cache.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function database(): Promise<SqliteDatabase.Database> {
  const dir = await mkdtemp(join(tmpdir(), 'accord-stmt-cache-'));
  dirs.push(dir);
  const db = new SqliteDatabase(join(dir, 'x.sqlite'));
  db.exec('create table t (k integer primary key, v text not null)');
  return db;
}

describe('withStatementCache', () => {
  it('hands back the statement prepared before for the same SQL text', async () => {
    const db = withStatementCache(await database());
    const a = db.prepare('select v from t where k = ?');
    const b = db.prepare('select v from t where k = ?');
    expect(b).toBe(a);
    expect(db.prepare('select k from t where v = ?')).not.toBe(a);
    expect(db.cachedStatements).toBe(2);
    db.close();
  });

  it('gives the same answers as fresh statements, across writes and reuse', async () => {
    const raw = await database();
    const db = withStatementCache(raw);
    for (let i = 0; i < 50; i++) db.prepare('insert into t (k, v) values (?, ?)').run([i, `v${i}`]);
    for (let i = 0; i < 50; i += 7) {
      expect(db.prepare('select v from t where k = ?').all([i])).toEqual([{ v: `v${i}` }]);
      expect(db.prepare('select count(*) as n from t where k < ?').all([i])).toEqual(raw.prepare('select count(*) as n from t where k < ?').all([i]));
    }
    db.close();
  });

  it('keeps at most its bound, dropping the least recently used, and still answers after that', async () => {
    const db = withStatementCache(await database(), 3);
    const keep = db.prepare('select 1 as one');
    for (let i = 0; i < 10; i++) {
      db.prepare(`select ${i} as n`);
      expect(db.prepare('select 1 as one')).toBe(keep); // used again: stays
    }
    expect(db.cachedStatements).toBe(3);
    expect(db.prepare('select 9 as n').all()).toEqual([{ n: 9 }]);
    expect(db.prepare('select 0 as n').all()).toEqual([{ n: 0 }]);
    db.close();
  });

  it('prepares again after a schema change, with the new columns', async () => {
    const db = withStatementCache(await database());
    const q = 'select * from t where k = 1';
    db.prepare('insert into t (k, v) values (?, ?)').run([1, 'one']);
    expect(db.prepare(q).all()).toEqual([{ k: 1, v: 'one' }]);
    db.prepare('alter table t add column w text').run();
    expect(db.prepare(q).all()).toEqual([{ k: 1, v: 'one', w: null }]);
    db.close();
  });
});
