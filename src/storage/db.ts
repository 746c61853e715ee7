/**
 * Opens the registry's database (DESIGN 9): SQLite (`registry.sqlite` in the data directory) by
 * default, PostgreSQL when a postgres:// URL is given. Migrations run on open.
 *
 * SQLite settings and why:
 * - journal_mode=WAL: readers never block the writer and a crash mid-write leaves the last commit;
 * - synchronous=FULL: in WAL mode, the WAL is fsynced at every COMMIT, so a commit that returned
 *   survives power loss (NORMAL would not guarantee that; the sequencer's receipts rely on it);
 * - busy_timeout: a statement that meets a lock held elsewhere waits for it instead of failing
 *   (opening, migrating, the rare busy read); the sequencer's own BEGIN IMMEDIATE waits on a timer
 *   instead, so the event loop never stops inside SQLite (write-transaction.ts);
 * - foreign_keys=ON: enforce any foreign key a later migration adds.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteAdapter, SqliteDialect, type DialectAdapter, type KyselyPlugin, type LogConfig } from 'kysely';
import pg from 'pg';
import { AccordError } from '../core/errors.ts';
import { migrationProvider, type Engine } from './migrations/index.ts';
import { withStatementCache } from './statement-cache.ts';
import type { Database } from './schema.ts';

export type { Database, Engine };

export const SQLITE_FILE = 'registry.sqlite';
export const BUSY_TIMEOUT_MS = 10_000;

export interface OpenDatabaseOptions {
  /** Directory of registry.sqlite (created if missing); unused with PostgreSQL. */
  dataDir: string;
  /** A postgres:// or postgresql:// URL; unset, null or empty means SQLite in dataDir. */
  databaseUrl?: string | null | undefined;
  /** Extra kysely plugins (tests count queries with one). */
  plugins?: KyselyPlugin[];
  /** kysely's query log (instrumentation). */
  log?: LogConfig;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  /**
   * Identifies the database for in-process coordination of writers: the real path of the SQLite
   * file, or the PostgreSQL URL.
   */
  location: string;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string | null | undefined): boolean {
  return typeof url === 'string' && /^postgres(?:ql)?:\/\//.test(url);
}

/**
 * SQLite does support transactional DDL; kysely's adapter says no only to be safe with drivers.
 * Saying yes makes the Migrator run each migration batch in one transaction, so a crash during a
 * first start never leaves half a schema behind.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class RegistrySqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

/** PostgreSQL int8 (bigint, count(*)) as a JS number; refuse silently losing precision. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new AccordError('DB_INTEGER_RANGE', `an int8 value from PostgreSQL is not a safe integer: ${value}`);
  return n;
}

const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === pg.types.builtins.INT8 && format !== 'binary') return parseInt8;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's overloads want a literal format
    return pg.types.getTypeParser(oid, format as any);
  },
};

function openSqlite(dataDir: string, plugins: KyselyPlugin[], log: LogConfig | undefined): DatabaseHandle {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, SQLITE_FILE);
  let sqlite: SqliteDatabase.Database;
  try {
    sqlite = new SqliteDatabase(file);
  } catch (cause) {
    throw new AccordError('DB_OPEN_FAILED', `cannot open the SQLite database ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    // busy_timeout first, so that switching to WAL waits for another process that holds a lock.
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new AccordError('DB_OPEN_FAILED', `SQLite refused WAL mode for ${file} (journal_mode is ${String(mode)})`);
    }
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
  } catch (e) {
    sqlite.close();
    throw e;
  }
  const db = new Kysely<Database>({ dialect: new RegistrySqliteDialect({ database: withStatementCache(sqlite) }), plugins, ...(log === undefined ? {} : { log }) });
  return { db, engine: 'sqlite', location: realpathSync(file), close: () => db.destroy() };
}

function openPostgres(url: string, plugins: KyselyPlugin[], log: LogConfig | undefined, poolSize: number): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins, ...(log === undefined ? {} : { log }) });
  return { db, engine: 'postgres', location: url, close: () => db.destroy() };
}

async function migrate(handle: DatabaseHandle): Promise<void> {
  const migrator = new Migrator({ db: handle.db, provider: migrationProvider(handle.engine) });
  // Several processes may start at once on one database. PostgreSQL: kysely's migration lock
  // serialises them. SQLite: one of two racing migration transactions fails with SQLITE_BUSY;
  // trying again finds the schema migrated.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (error === undefined) return;
    lastError = error;
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
  }
  throw new AccordError('DB_MIGRATION_FAILED', `database migration failed: ${(lastError as Error)?.message ?? String(lastError)}`, { cause: lastError });
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const plugins = options.plugins ?? [];
  const url = options.databaseUrl;
  let handle: DatabaseHandle;
  if (typeof url === 'string' && isPostgresUrl(url)) {
    handle = openPostgres(url, plugins, options.log, options.poolSize ?? 10);
  } else if (typeof url === 'string' && url !== '') {
    // Never echo credentials that may sit in the URL.
    throw new AccordError('CONFIG_INVALID', `a database URL must start with postgres:// or postgresql://, got ${url.replace(/\/\/[^@/]*@/, '//***@').slice(0, 60)}`);
  } else {
    handle = openSqlite(options.dataDir, plugins, options.log);
  }
  try {
    await migrate(handle);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle;
}
