/**
 * The one writer: a transaction that holds the database's write lock from its first statement,
 * so no two sequencers (threads, processes or machines) ever append at once and the log never
 * forks (DESIGN 9).
 *
 * - SQLite: `BEGIN IMMEDIATE` takes the RESERVED lock at once (a plain BEGIN would take it only
 *   at the first write, after we had read a size that may be stale). better-sqlite3 is
 *   synchronous, so SQLite's own wait for a lock held elsewhere (busy_timeout) would stop the
 *   event loop: no page, no admission, nothing, until the other writer is done. So the lock is
 *   asked for without waiting (busy_timeout 0 for that one statement), and while another process
 *   holds it the attempt is repeated on a timer (1 ms, doubling up to 25 ms), for up to
 *   BUSY_TIMEOUT_MS in all, the connection released in between so reads go on. After that:
 *   DB_BUSY (503 over HTTP: try again), nothing written. Two handles in ONE process queue on an
 *   in-process mutex per database file first.
 * - PostgreSQL: `pg_advisory_xact_lock` inside the transaction; released at COMMIT or ROLLBACK.
 *   Under READ COMMITTED every later statement sees what the previous holder committed.
 *
 * Whoever holds the lock must read the log's size again inside the transaction: another process
 * may have appended since (the sequencer does).
 */
import { sql, type Kysely } from 'kysely';
import { AccordError } from '../core/errors.ts';
import { BUSY_TIMEOUT_MS, type DatabaseHandle } from './db.ts';
import type { Database } from './schema.ts';

/** ASCII "ACCORD": the advisory lock all sequencers of a PostgreSQL database share. */
export const SEQUENCER_LOCK_ID = 0x4143434f5244;

const queues = new Map<string, Promise<unknown>>();

/** Runs fn after every earlier call with the same key has settled (a per-key FIFO mutex). */
async function inProcessMutex<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** First and longest pause between two attempts at SQLite's write lock (ms). */
const LOCK_RETRY_FIRST_MS = 1;
const LOCK_RETRY_MAX_MS = 25;

export interface WriteTransactionOptions {
  /** SQLite: how long to keep asking for a write lock another process holds (ms). Default BUSY_TIMEOUT_MS. */
  lockWaitMs?: number;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
}

/** `BEGIN IMMEDIATE` without SQLite waiting inside it; false if another connection holds the lock. */
async function tryBeginImmediate(conn: Kysely<Database>): Promise<boolean> {
  await sql.raw('pragma busy_timeout = 0').execute(conn);
  try {
    await sql`begin immediate`.execute(conn);
    return true;
  } catch (e) {
    if (isBusy(e)) return false;
    throw e;
  } finally {
    await sql.raw(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`).execute(conn);
  }
}

/**
 * Runs fn in a transaction holding the write lock; commits if fn resolves, rolls back if it
 * throws. Resolves only after COMMIT returned, i.e. after the commit is durable (db.ts settings).
 */
export async function writeTransaction<T>(handle: DatabaseHandle, fn: (trx: Kysely<Database>) => Promise<T>, opts: WriteTransactionOptions = {}): Promise<T> {
  if (handle.engine === 'postgres') {
    return handle.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(SEQUENCER_LOCK_ID)})`.execute(trx);
      return fn(trx);
    });
  }
  const waitMs = opts.lockWaitMs ?? BUSY_TIMEOUT_MS;
  return inProcessMutex(handle.location, async () => {
    // Counted from the first attempt, as busy_timeout would: the wait behind this process's own
    // writers (the mutex) is not a lock held by another process.
    const deadline = performance.now() + waitMs;
    for (let pause = LOCK_RETRY_FIRST_MS; ; pause = Math.min(pause * 2, LOCK_RETRY_MAX_MS)) {
      const outcome = await handle.db.connection().execute(async (conn) => {
        if (!(await tryBeginImmediate(conn))) return null;
        return { result: await inTransaction(conn, fn) };
      });
      if (outcome !== null) return outcome.result;
      const left = deadline - performance.now();
      if (left <= 0) throw new AccordError('DB_BUSY', `another process held the database's write lock for more than ${waitMs} ms; nothing was written, try again`);
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    }
  });
}

/** fn inside the transaction begun on conn: COMMIT if it resolves, ROLLBACK if it or COMMIT throws. */
async function inTransaction<T>(conn: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(conn);
  } catch (e) {
    await rollbackQuietly(conn);
    throw e;
  }
  try {
    await sql`commit`.execute(conn);
  } catch (e) {
    await rollbackQuietly(conn);
    throw e;
  }
  return result;
}

async function rollbackQuietly(conn: Kysely<Database>): Promise<void> {
  try {
    await sql`rollback`.execute(conn);
  } catch {
    // The transaction may already be gone (SQLite rolls back on some errors itself).
  }
}
