/**
 * The one writer: a transaction that holds the database's write lock from its first statement,
 * so no two sequencers (threads, processes or machines) ever append at once and the log never
 * forks (DESIGN 9).
 *
 * - SQLite: `BEGIN IMMEDIATE` takes the RESERVED lock at once (a plain BEGIN would take it only
 *   at the first write, after we had read a size that may be stale). Another process waits for it
 *   up to busy_timeout. Two handles in ONE process must not wait that way: better-sqlite3 is
 *   synchronous, so the waiter would block the event loop that the holder needs to finish. They
 *   queue on an in-process mutex per database file first.
 * - PostgreSQL: `pg_advisory_xact_lock` inside the transaction; released at COMMIT or ROLLBACK.
 *   Under READ COMMITTED every later statement sees what the previous holder committed.
 *
 * Whoever holds the lock must read the log's size again inside the transaction: another process
 * may have appended since (the sequencer does).
 */
import { sql, type Kysely } from 'kysely';
import type { DatabaseHandle } from './db.ts';
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

/**
 * Runs fn in a transaction holding the write lock; commits if fn resolves, rolls back if it
 * throws. Resolves only after COMMIT returned, i.e. after the commit is durable (db.ts settings).
 */
export async function writeTransaction<T>(handle: DatabaseHandle, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (handle.engine === 'postgres') {
    return handle.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(SEQUENCER_LOCK_ID)})`.execute(trx);
      return fn(trx);
    });
  }
  return inProcessMutex(handle.location, () =>
    handle.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      let result: T;
      try {
        result = await fn(conn);
      } catch (e) {
        try {
          await sql`rollback`.execute(conn);
        } catch {
          // The transaction may already be gone (SQLite rolls back on some errors itself).
        }
        throw e;
      }
      try {
        await sql`commit`.execute(conn);
      } catch (e) {
        try {
          await sql`rollback`.execute(conn);
        } catch {
          // as above
        }
        throw e;
      }
      return result;
    }),
  );
}
