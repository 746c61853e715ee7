/**
 * SQLite's write lock held by another connection (another process, as far as SQLite's locks go:
 * this one is not ours and is not queued on our in-process mutex). The writer must wait for it
 * without stopping the event loop, keep serving reads meanwhile, and give up after its limit
 * with DB_BUSY, having written nothing.
 */
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isAccordError } from '../../src/core/errors.ts';
import { openDatabase, type DatabaseHandle } from '../../src/storage/db.ts';
import { getMeta, recordMetaIfAbsent } from '../../src/storage/meta-repo.ts';
import { writeTransaction } from '../../src/storage/write-transaction.ts';
import { useTempDirs } from './engines.ts';

const tempDir = useTempDirs();

describe('writeTransaction on SQLite, while another connection holds the write lock', () => {
  const closing: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  async function lockedDatabase(): Promise<{ handle: DatabaseHandle; other: SqliteDatabase.Database }> {
    const dataDir = await tempDir();
    const handle = await openDatabase({ dataDir });
    closing.push(() => handle.close());
    await recordMetaIfAbsent(handle.db, { before: 'yes' });
    const other = new SqliteDatabase(join(dataDir, 'registry.sqlite'));
    closing.push(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    closing.push(() => other.inTransaction && other.exec('ROLLBACK'));
    return { handle, other };
  }

  it('waits without stopping the event loop, serves reads meanwhile, then commits', async () => {
    const { handle, other } = await lockedDatabase();
    let ran = 0;
    const written = writeTransaction(handle, async (trx) => {
      ran++;
      await recordMetaIfAbsent(trx, { during: 'yes' });
      return 'done';
    });
    // Timers fire and reads of the same database answer while the writer waits: were it waiting
    // inside SQLite, this thread would do nothing else until the lock was released, and the
    // timer below that releases it would never run.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(await getMeta(handle.db, 'before')).toBe('yes');
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(3);
    expect(ran).toBe(0);
    other.exec('COMMIT');
    expect(await written).toBe('done');
    expect(ran).toBe(1);
    expect(await getMeta(handle.db, 'during')).toBe('yes');
  });

  it('gives up after its limit with DB_BUSY and writes nothing', async () => {
    const { handle, other } = await lockedDatabase();
    let ran = 0;
    const error = await writeTransaction(
      handle,
      async (trx) => {
        ran++;
        await recordMetaIfAbsent(trx, { during: 'yes' });
      },
      { lockWaitMs: 150 },
    ).catch((e: unknown) => e);
    expect(isAccordError(error, 'DB_BUSY')).toBe(true);
    expect(ran).toBe(0);
    other.exec('ROLLBACK');
    expect(await getMeta(handle.db, 'during')).toBeUndefined();
    // The lock free again, the next transaction goes through.
    await writeTransaction(handle, (trx) => recordMetaIfAbsent(trx, { after: 'yes' }));
    expect(await getMeta(handle.db, 'after')).toBe('yes');
  });
});
