/**
 * Prepared statements, kept. kysely's SQLite driver calls `prepare(sql)` for every query it runs,
 * and better-sqlite3 compiles the SQL again each time (sqlite3_prepare_v3: parsing and planning,
 * about as costly as running an indexed lookup). The registry issues a small set of SQL texts over
 * and over, so this wrapper hands kysely the statement prepared the last time the same text was
 * seen.
 *
 * Why reusing a statement is safe here:
 * - better-sqlite3 resets a statement after every `run`/`all`/`get`, and an iterator resets it when
 *   it ends or is closed;
 * - kysely runs one query at a time on its single SQLite connection (a mutex), so a statement is
 *   never used by two queries at once;
 * - SQLite re-prepares a statement by itself when the schema changed since it was prepared
 *   (sqlite3_prepare_v3 keeps the SQL text: SQLITE_SCHEMA is handled inside sqlite3_step).
 *
 * The cache is bounded (least recently used out first): multi-row INSERTs and IN lists make a new
 * text for every length, and a text seen once must not stay forever.
 */
import type SqliteDatabase from 'better-sqlite3';

export const STATEMENT_CACHE_SIZE = 256;

/** The part of a better-sqlite3 Database that kysely's SqliteDialect uses. */
export interface CachingSqliteDatabase {
  prepare(sql: string): SqliteDatabase.Statement;
  close(): void;
  /** Statements currently kept (tests). */
  readonly cachedStatements: number;
}

export function withStatementCache(db: SqliteDatabase.Database, max = STATEMENT_CACHE_SIZE): CachingSqliteDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sql: string): SqliteDatabase.Statement {
      const hit = cache.get(sql);
      if (hit !== undefined) {
        // Map keeps insertion order: moving a hit to the end makes the first key the least recently used.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      if (cache.size >= max) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      cache.set(sql, stmt);
      return stmt;
    },
    close(): void {
      cache.clear();
      db.close();
    },
    get cachedStatements(): number {
      return cache.size;
    },
  };
}
